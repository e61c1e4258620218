import Foundation
import HummingbirdTesting

extension TestResponse {
    /// The body decoded from JSON.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }

    /// The body as text.
    var text: String { String(decoding: body.readableBytesView, as: UTF8.self) }
}

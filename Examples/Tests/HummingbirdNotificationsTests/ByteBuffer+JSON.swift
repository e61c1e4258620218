import Foundation
import Hummingbird

extension ByteBuffer {
    /// `value` encoded as JSON, for a request body.
    static func json(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONEncoder().encode(value))
    }
}

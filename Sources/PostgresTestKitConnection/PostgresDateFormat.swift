import Foundation

/// Converts between `Date` and PostgreSQL's ISO text formats (`date`, `timestamp`,
/// `timestamptz`) without depending on the session's `DateStyle` beyond ISO order.
package enum PostgresDateFormat {
    /// The date as a `timestamptz` in UTC with microseconds (`2024-05-01 12:00:00.000000+00:00`).
    static func format(_ date: Date) -> String {
        let totalMicros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        var seconds = Int64((totalMicros / 1_000_000).rounded(.down))
        let micros = Int64(totalMicros) - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        seconds -= days * 86_400
        let (y, m, d) = civil(fromDays: days)
        let hh = seconds / 3600, mm = (seconds % 3600) / 60, ss = seconds % 60
        func pad(_ v: Int64, _ w: Int) -> String { String(v).leftPadded(to: w) }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2)) \(pad(hh, 2)):\(pad(mm, 2)):\(pad(ss, 2)).\(pad(micros, 6))+00:00"
    }

    /// Parses `YYYY-MM-DD[ HH:MM:SS[.ffffff]][+HH[:MM[:SS]]]`; no offset means UTC.
    package static func parse(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int64? {
            guard i + width <= chars.count else { return nil }
            var v: Int64 = 0
            for k in i..<(i + width) {
                let c = chars[k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            i += width
            return v
        }
        func expect(_ c: Character) -> Bool {
            guard i < chars.count, chars[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let y = number(4), expect("-"), let m = number(2), expect("-"), let d = number(2)
        else { return nil }
        var seconds = days(fromCivil: y, m, d) * 86_400
        var fraction = 0.0
        if i < chars.count, chars[i] == UInt8(ascii: " ") || chars[i] == UInt8(ascii: "T") {
            i += 1
            guard let hh = number(2), expect(":"), let mm = number(2), expect(":"), let ss = number(2)
            else { return nil }
            seconds += hh * 3600 + mm * 60 + ss
            if expect(".") {
                var scale = 0.1
                while i < chars.count, chars[i] >= 48, chars[i] <= 57 {
                    fraction += Double(chars[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
            }
        }
        if i < chars.count {
            let sign: Int64
            switch chars[i] {
            case UInt8(ascii: "+"): sign = 1
            case UInt8(ascii: "-"): sign = -1
            case UInt8(ascii: "Z"): sign = 0
            default: return nil
            }
            i += 1
            if sign != 0 {
                guard let oh = number(2) else { return nil }
                var offset = oh * 3600
                if expect(":"), let om = number(2) { offset += om * 60 }
                if expect(":"), let os = number(2) { offset += os }
                seconds -= sign * offset
            }
        }
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    // Howard Hinnant's civil-from-days algorithms.
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    private static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

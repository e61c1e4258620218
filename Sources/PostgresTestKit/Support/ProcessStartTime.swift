import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When this process started: where the run log audit's window opens.
///
/// Linux: the `starttime` of `/proc/self/stat` (clock ticks since boot), placed on the wall
/// clock through `CLOCK_BOOTTIME` — to the tick (10 ms), where `/proc/stat`'s `btime` (the
/// fallback) is only to the second. The kernel truncates to the tick (and `btime` to the
/// second), so the value taken is the latest moment the process can have started: a write
/// logged just before the process started (its parent's set-up, another process's) must not
/// count as its own, and no process connects and writes within its first tick. macOS:
/// `sysctl` `KERN_PROC_PID`'s `p_starttime` (microseconds). Elsewhere, or when those cannot
/// be read: the first time this is asked (the window then opens at the first preparation).
package enum ProcessStartTime {
    /// The process's start, computed once.
    package static let date: Date = computed() ?? Date()

    /// The start as the system reports it, `nil` when it cannot be read.
    static func computed() -> Date? {
        #if os(Linux)
        guard let ticks = linuxStartTicks() else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard hertz > 0 else { return nil }
        let sinceBoot = (ticks + 1) / hertz   // the end of the tick the process started in
        var boot = timespec()
        var wall = timespec()
        if clock_gettime(CLOCK_BOOTTIME, &boot) == 0, clock_gettime(CLOCK_REALTIME, &wall) == 0 {
            let uptime = Double(boot.tv_sec) + Double(boot.tv_nsec) / 1e9
            let now = Double(wall.tv_sec) + Double(wall.tv_nsec) / 1e9
            return Date(timeIntervalSince1970: now - (uptime - sinceBoot))
        }
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let bootTime = Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces)) else { return nil }
        return Date(timeIntervalSince1970: bootTime + 1 + sinceBoot)   // btime is truncated to the second
        #elseif canImport(Darwin)
        var mib: [Int32] = [CTL_KERN, KERN_PROC, KERN_PROC_PID, getpid()]
        var info = kinfo_proc()
        var size = MemoryLayout<kinfo_proc>.stride
        guard sysctl(&mib, UInt32(mib.count), &info, &size, nil, 0) == 0, size > 0 else { return nil }
        let started = info.kp_proc.p_un.__p_starttime
        guard started.tv_sec > 0 else { return nil }
        return Date(timeIntervalSince1970: Double(started.tv_sec) + Double(started.tv_usec) / 1e6)
        #else
        return nil
        #endif
    }

    #if os(Linux)
    /// Field 22 of `/proc/self/stat` (`starttime`, in clock ticks since boot). The fields are
    /// counted after the last `)`: the command name before it may hold spaces and parentheses.
    static func linuxStartTicks() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so starttime (field 22) is fields[19].
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        return ticks
    }
    #endif
}

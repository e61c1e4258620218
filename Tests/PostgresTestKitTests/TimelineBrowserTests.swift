import Foundation
import Testing
@testable import PostgresTestKit

/// The timeline of a real run, rendered by headless Chromium: a row per database of the run, a
/// marker per finding, no script errors, a screenshot that is not blank.
/// The picture of a small run of its own, and of the Examples' run when `scripts/test` ran them.
///
/// Needs `chromium` (Debian's package; `PGTESTKIT_BROWSER=1 scripts/test` installs it) and
/// `python3` (the screenshot's pixels are read with its zlib); without them it is skipped.
@Suite("Timeline in a browser", .serialized)
struct TimelineBrowserTests {
    static let chromium = Subprocess.which("chromium")
    static let python = Subprocess.which("python3")

    @Test(.enabled(if: chromium != nil && python != nil, "needs chromium and python3 on PATH (PGTESTKIT_BROWSER=1 scripts/test installs chromium)"))
    func theTimelineOfARealRunShowsEveryDatabaseAndEveryFinding() async throws {
        // A small real run: a template build, four tests at once, each hook writing (a finding each).
        let prefix = TestSupport.uniquePrefix("tl")
        let manager = TestDatabaseManager(
            prefix: prefix, migrations: AuditTests.schema,
            connectHooks: [HookGuardTests.cloneHook("INSERT INTO notes (body) VALUES ('premature')")],
            audit: .warn, poolSize: 1, logger: TestSupport.logger)
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 1...4 {
                group.addTask {
                    let db = try await manager.acquire(testName: "timelineTest\(index)", suite: "TimelineBrowserTests")
                    try await db.execute("INSERT INTO notes (body) VALUES ($1)", "test \(index)")
                    try await db.release()
                    return db.name
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        await manager.waitForDrops()
        let findings = manager.violations.filter { $0.database.hasPrefix(prefix + "_") }
        await manager.shutdown()
        #expect(findings.count >= 4)

        // This run's part of the process's report (other suites may run beside it).
        var report = RunReport.shared.snapshot
        report.timeline.rows = report.timeline.rows.filter { $0.database?.hasPrefix(prefix + "_") == true }
        report.timeline.madeAhead = report.timeline.madeAhead.filter { $0.key.hasPrefix(prefix + "_") }
        report.violations = report.violations.filter { $0.database.hasPrefix(prefix + "_") }
        #expect(Set(names).isSubset(of: Set(report.timeline.rows.compactMap(\.database))))
        #expect(report.timeline.rows.filter { $0.kind == .template }.count == 1)
        #expect(report.timeline.rows.count == 5)
        // The pool made clones ahead (its hooks wrote in them too): each has a row, the popped
        // ones on their test's row, the others in a group of their own.
        #expect(report.timeline.rows.contains { row in row.spans.contains { $0.ahead == true } } || !report.timeline.madeAhead.isEmpty)

        try await Self.checkInBrowser(TimelineDocument(reports: [report]), everyFindingHasARow: true)
    }

    /// The Examples' run (`scripts/test` with `PGTESTKIT_EXAMPLES=1` sets
    /// `PGTESTKIT_TIMELINE_REPORTS` to its JSON reports, `:`-separated): the same checks.
    @Test(.enabled(if: chromium != nil && python != nil && ProcessInfo.processInfo.environment["PGTESTKIT_TIMELINE_REPORTS"] != nil,
                   "runs after a run of the Examples that wrote PGTESTKIT_TIMELINE_REPORTS, with chromium and python3 on PATH"))
    func theTimelineOfTheExamplesRunShowsEveryDatabaseAndEveryFinding() async throws {
        let paths = ProcessInfo.processInfo.environment["PGTESTKIT_TIMELINE_REPORTS", default: ""].split(separator: ":").map(String.init)
        let reports = try paths.map { try RunReport.readJSON(at: $0) }
        let document = TimelineDocument(reports: reports)
        #expect(document.rows.contains { $0.kind == .test && $0.test != nil }, "the Examples' reports have no test rows")
        try await Self.checkInBrowser(document)
    }

    /// Renders `document`, loads it in Chromium and checks the page: a row per database (the
    /// rows recorded, and one per database a finding names that has none, such as the
    /// maintenance database), a marker and a table row per finding,
    /// no console message (the page has no script), a screenshot that is not blank.
    static func checkInBrowser(_ document: TimelineDocument, everyFindingHasARow: Bool = false) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestSupport.uniquePrefix("pgtk-timeline-"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("timeline.html")
        try Data(TimelineRenderer().render(document).utf8).write(to: page)

        let databases = Set(document.rows.compactMap(\.database))
        let withoutRow = Set(document.findings.map(\.database)).subtracting(databases).subtracting(document.rows.compactMap(\.scratch))
        if everyFindingHasARow { #expect(withoutRow.isEmpty, "findings on databases without a row: \(withoutRow)") }
        let (dom, log) = try await dumpDOM(page, in: directory)
        #expect(count("<g class=\"r\"", in: dom) == document.rows.count + withoutRow.count)
        for name in databases.union(withoutRow) { #expect(dom.contains(name), "no row names \(name)") }
        #expect(count("<g class=\"f\"", in: dom) == document.findings.count)
        #expect(count("<tr id=\"f", in: dom) == document.findings.count)
        #expect(consoleMessages(log).isEmpty, "the page logged: \(consoleMessages(log))")

        let screenshot = directory.appendingPathComponent("timeline.png")
        try await self.screenshot(page, to: screenshot, in: directory)
        let (width, height, colours) = try await measure(screenshot)
        #expect(width == 1300 && height == 800)
        #expect(colours > 10, "a blank screenshot has one colour; this one has \(colours)")
        if let keep = ProcessInfo.processInfo.environment["PGTESTKIT_TIMELINE_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: screenshot, to: URL(fileURLWithPath: keep))
        }
    }

    @Test(.enabled(if: chromium != nil, "needs chromium on PATH (PGTESTKIT_BROWSER=1 scripts/test installs it)"))
    func aScriptErrorOnAPageIsSeen() async throws {
        // The check above would pass on a browser that printed nothing: here it must see one.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestSupport.uniquePrefix("pgtk-timeline-"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("broken.html")
        try Data("<!doctype html><p>x</p><script>notDefinedAnywhere()</script>".utf8).write(to: page)
        let (_, log) = try await Self.dumpDOM(page, in: directory)
        #expect(Self.consoleMessages(log).contains { $0.contains("notDefinedAnywhere") })
    }

    /// Chromium's flags: headless, no sandbox (root in CI), a profile of its own, logging to stderr.
    static func flags(_ directory: URL) -> String {
        "--headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir='\(directory.path)/profile' --enable-logging=stderr --v=0"
    }

    /// The page's DOM after loading, and Chromium's log.
    static func dumpDOM(_ page: URL, in directory: URL) async throws -> (dom: String, log: String) {
        let (dom, log) = (directory.appendingPathComponent("dom.html"), directory.appendingPathComponent("chromium.log"))
        let result = try await Subprocess.run("/bin/sh", ["-c",
            "timeout 120 '\(chromium!)' \(flags(directory)) --dump-dom 'file://\(page.path)' > '\(dom.path)' 2> '\(log.path)'"])
        let logText = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(result.succeeded, "chromium --dump-dom failed: \(result.output) \(logText.suffix(2000))")
        return ((try? String(contentsOf: dom, encoding: .utf8)) ?? "", logText)
    }

    static func screenshot(_ page: URL, to png: URL, in directory: URL) async throws {
        let log = directory.appendingPathComponent("screenshot.log")
        let result = try await Subprocess.run("/bin/sh", ["-c",
            "timeout 120 '\(chromium!)' \(flags(directory)) --window-size=1300,800 --screenshot='\(png.path)' 'file://\(page.path)' > '\(log.path)' 2>&1"])
        #expect(result.succeeded, "chromium --screenshot failed: \((try? String(contentsOf: log, encoding: .utf8))?.suffix(2000) ?? "")")
    }

    /// The page's console messages (script errors among them) in Chromium's log.
    static func consoleMessages(_ log: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// Width, height and distinct colours of an 8-bit RGB(A) PNG, read with Python's zlib.
    static func measure(_ png: URL) async throws -> (Int, Int, Int) {
        let script = png.deletingLastPathComponent().appendingPathComponent("png.py")
        try Data(pngReader.utf8).write(to: script)
        let result = try await Subprocess.run(python!, [script.path, png.path])
        let numbers = result.output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        try #require(result.succeeded && numbers.count == 3, "could not read the screenshot: \(result.output)")
        return (numbers[0], numbers[1], numbers[2])
    }

    /// Decodes the PNG's rows (filters undone) and prints `width height colours`.
    static let pngReader = #"""
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat = 8, b''
while pos < len(data):
    length, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b'IHDR': width, height, depth, colour = struct.unpack('>IIBB', body[:10])
    if kind == b'IDAT': idat += body
    pos += 12 + length
assert depth == 8 and colour in (2, 6), 'unexpected PNG format'
bpp = 3 if colour == 2 else 4
raw, stride = zlib.decompress(idat), width * bpp
rows, previous, colours, offset = [], bytearray(stride), set(), 0
for _ in range(height):
    kind, line = raw[offset], bytearray(raw[offset + 1:offset + 1 + stride])
    offset += 1 + stride
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = previous[i]
        c = previous[i - bpp] if i >= bpp else 0
        if kind == 1: line[i] = (line[i] + a) & 255
        elif kind == 2: line[i] = (line[i] + b) & 255
        elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
    previous = line
print(width, height, len(colours))
"""#
}

import Foundation

/// Writes a ``TimelineLayout`` as one self-contained HTML file: inline SVG and CSS, nothing
/// fetched, no script. Suites are `<details>` groups (collapsed without JavaScript), every bar
/// and marker has its hover text in an SVG `<title>`, and the findings are listed again in a
/// table below the picture.
package struct TimelineRenderer: Sendable {
    /// The layout's sizes and thresholds.
    package var options: TimelineLayout.Options

    /// A renderer with `options`.
    package init(options: TimelineLayout.Options = TimelineLayout.Options()) {
        self.options = options
    }

    /// The picture of `document`, as HTML.
    package func render(_ document: TimelineDocument) -> String {
        let layout = TimelineLayout(document, options: options)
        var html = head(layout)
        html += header(document, layout)
        html += legend()
        html += axis(layout)
        for group in layout.groups { html += self.group(group, layout, document) }
        html += findingsTable(document, layout)
        html += "<p class=\"foot\">Written by PostgresTestKit. Times are the client's wall clock; each row is one database, from its acquire to its drop.</p>\n</body>\n</html>\n"
        return html
    }

    private func head(_ layout: TimelineLayout) -> String {
        let bars = TimelinePhase.allCases.map { ".\($0.code){fill:\($0.colour)}" }.joined()
        let swatches = TimelinePhase.allCases.map { ".k.\($0.code){background:\($0.colour)}" }.joined()
        let step = max(2, layout.tickStep * layout.scale)
        return """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>PostgresTestKit timeline</title>
        <style>
        body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:16px;background:#fff}
        h1{font-size:18px;margin:0 0 6px}h2{font-size:15px;margin:20px 0 6px}
        header p{margin:2px 0}.headline{font-weight:600}.note{color:#a33}
        .legend{margin:8px 0;display:flex;flex-wrap:wrap;gap:4px 12px}.legend span{white-space:nowrap}
        .k{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:-1px;border-radius:2px}
        .k.fm{background:#d11;transform:rotate(45deg) scale(.75)}
        details{margin:1px 0}summary{cursor:pointer;display:flex;align-items:center;list-style:none}
        summary::-webkit-details-marker{display:none}summary:hover{background:#f4f6fa}
        .gt{flex:none;box-sizing:border-box;width:\(Self.number(layout.options.labelWidth))px;padding-right:6px;line-height:1.25;overflow:hidden}
        .gt b{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.gt b::before{content:"▸ ";color:#777}
        details[open]>summary .gt b::before{content:"▾ "}.gt span{font-size:11px;color:#555}.fc{color:#c11;font-weight:600}
        svg.gs{flex:none}.ge{fill:#c5cad3}
        svg{display:block;font-size:11px}
        svg.rows{background-image:repeating-linear-gradient(90deg,#e4e4e4 0 1px,transparent 1px \(Self.number(step))px);background-position:\(Self.number(layout.options.labelWidth))px 0;background-size:\(Self.number(layout.options.plotWidth + 1))px 100%;background-repeat:no-repeat}
        .rows rect{y:2px;height:\(Self.number(layout.options.rowHeight - 4))px}
        .rows text{text-anchor:end;fill:#333}.r:hover text{font-weight:700}.rows .r:hover .bg{fill:#eef3fb}
        .rows .bg{fill:transparent;height:\(Self.number(layout.options.rowHeight))px;y:0}
        .axis text{text-anchor:middle;fill:#555}.axis line{stroke:#999}
        \(bars)\(swatches)
        .ah{fill-opacity:.4}.k.ah{opacity:.4;background:#e8954a}
        .vr{fill:#4caf7a}.vs{fill:#2a9d8f}.vx{fill:#c0392b}
        .k.vr{background:#4caf7a}.k.vs{background:#2a9d8f}.k.vx{background:#c0392b}
        .f path,.gm{fill:#d11;stroke:#fff;stroke-width:1}
        table{border-collapse:collapse;margin-top:4px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
        th{background:#f3f3f3}td code{white-space:pre-wrap;word-break:break-word}tr:target{background:#fff3c4}
        .foot{color:#777;margin-top:16px}
        </style>
        </head>
        <body>

        """
    }

    private func header(_ document: TimelineDocument, _ layout: TimelineLayout) -> String {
        var lines = ["<header>", "<h1>PostgresTestKit timeline</h1>",
                     "<p class=\"headline\">\(Self.escape(document.headline))</p>"]
        if !document.breakdown.isEmpty {
            lines.append("<p>The toolkit's time went to: \(Self.escape(document.breakdown)) (summed over tests).</p>")
        }
        let servers = document.servers.isEmpty ? "unknown" : document.servers.joined(separator: "; ")
        let versions = document.postgresVersions.isEmpty ? "unknown" : document.postgresVersions.joined(separator: ", ")
        let testRows = layout.rows.filter { $0.kind == .test }.count
        lines.append("<p>Server: \(Self.escape(servers)) · PostgreSQL \(Self.escape(versions)) · \(document.processCount) process\(document.processCount == 1 ? "" : "es") · \(testRows) test database\(testRows == 1 ? "" : "s") drawn · \(document.findings.count) finding\(document.findings.count == 1 ? "" : "s") · \(TimelineLayout.label(milliseconds: layout.duration)) from first to last</p>")
        if document.omittedRows > 0 {
            lines.append("<p class=\"note\">\(document.omittedRows) more database\(document.omittedRows == 1 ? " is" : "s are") not drawn: a process records at most \(document.rowLimit) rows (PGTESTKIT_TIMELINE_ROWS); the totals above count them.</p>")
        }
        lines.append("</header>")
        return lines.joined(separator: "\n") + "\n"
    }

    private func legend() -> String {
        var items = TimelinePhase.allCases.filter { $0 != .verdict }.map { "<span><i class=\"k \($0.code)\"></i>\(Self.escape($0.label))</span>" }
        items += ["<span><i class=\"k vr\"></i>verdict: recycled</span>", "<span><i class=\"k vs\"></i>verdict: reset</span>",
                  "<span><i class=\"k vx\"></i>verdict: dropped</span>", "<span><i class=\"k ah\"></i>paler: done by the pool ahead of the test</span>", "<span><i class=\"k fm\"></i>finding</span>"]
        return "<div class=\"legend\">" + items.joined() + "</div>\n"
    }

    private func axis(_ layout: TimelineLayout) -> String {
        var svg = "<svg class=\"axis\" width=\"\(Self.number(layout.width))\" height=\"22\" role=\"img\" aria-label=\"time axis\">"
        svg += "<line x1=\"\(Self.number(layout.options.labelWidth))\" x2=\"\(Self.number(layout.options.labelWidth + layout.options.plotWidth))\" y1=\"20.5\" y2=\"20.5\"/>"
        for tick in layout.ticks {
            svg += "<line x1=\"\(Self.number(tick.x))\" x2=\"\(Self.number(tick.x))\" y1=\"15\" y2=\"21\"/><text x=\"\(Self.number(tick.x))\" y=\"12\">\(tick.label)</text>"
        }
        return svg + "</svg>\n"
    }

    private func group(_ group: TimelineLayout.Group, _ layout: TimelineLayout, _ document: TimelineDocument) -> String {
        // The heading is a row on the shared axis too: the group's extent and its findings,
        // so that collapsed groups still show when each suite ran.
        var counts = "\(group.rows.count) row\(group.rows.count == 1 ? "" : "s")"
        if let extent = group.extent {
            counts += " · " + TimelineLayout.label(from: extent.lowerBound, to: extent.upperBound)
        }
        // `Module.Suite/Nested`: the suite in bold, its module on the small line.
        var (name, module) = (group.title, "")
        if group.rows.first?.kind == .test, let dot = group.title.firstIndex(of: ".") {
            (name, module) = (String(group.title[group.title.index(after: dot)...]), String(group.title[..<dot]) + " · ")
        }
        var html = "<details\(group.isOpen ? " open" : "")><summary><span class=\"gt\" title=\"\(Self.escape(group.title))\"><b>\(Self.escape(name))</b><span>\(Self.escape(module))\(counts)"
        if group.findingCount > 0 { html += " · <span class=\"fc\">\(group.findingCount) finding\(group.findingCount == 1 ? "" : "s")</span>" }
        html += "</span></span><svg class=\"gs\" width=\"\(Self.number(layout.options.plotWidth + 12))\" height=\"14\">"
        if let extent = group.extent {
            let x = extent.lowerBound * layout.scale
            html += "<rect class=\"ge\" x=\"\(Self.number(x))\" y=\"4\" width=\"\(Self.number(max(1, (extent.upperBound - extent.lowerBound) * layout.scale)))\" height=\"6\"/>"
        }
        for marker in group.rows.flatMap(\.markers) {
            html += "<path class=\"gm\" d=\"M\(Self.number(marker.x - layout.options.labelWidth)) 2l5 5-5 5-5-5z\"/>"
        }
        html += "</svg>"
        html += "</summary>\n<svg class=\"rows\" width=\"\(Self.number(layout.width))\" height=\"\(Self.number(group.height))\">\n"
        let labelX = Self.number(layout.options.labelWidth - 6)
        let textY = Self.number(layout.options.rowHeight - 3.5)
        let markerY = Self.number(layout.options.rowHeight / 2)
        for row in group.rows {
            html += "<g class=\"r\" transform=\"translate(0,\(Self.number(row.y)))\"><title>\(Self.escape(row.tooltip))</title>"
            if layout.barTooltips { html += "<rect class=\"bg\" width=\"\(Self.number(layout.width))\"/>" }
            html += "<text x=\"\(labelX)\" y=\"\(textY)\">\(Self.escape(row.label))</text>"
            for bar in row.bars {
                let code = bar.phase == .verdict ? Self.verdictCode(row.outcome) : bar.phase.code
                html += "<rect class=\"\(code)\(bar.ahead ? " ah" : "")\" x=\"\(Self.number(bar.x))\" width=\"\(Self.number(bar.width))\""
                html += layout.barTooltips
                    ? "><title>\(Self.escape(bar.phase.label))\(bar.ahead ? " (by the pool, ahead)" : ""): \(TimelineLayout.label(milliseconds: bar.duration))</title></rect>"
                    : "/>"
            }
            for marker in row.markers {
                let finding = document.findings[marker.finding]
                html += "<a href=\"#f\(marker.finding + 1)\"><g class=\"f\" transform=\"translate(\(Self.number(marker.x)),\(markerY))\"><path d=\"M0-6 6 0 0 6-6 0z\"/><title>\(Self.escape(Self.findingTooltip(finding, number: marker.finding + 1, layout)))</title></g></a>"
            }
            html += "</g>\n"
        }
        return html + "</svg>\n</details>\n"
    }

    private func findingsTable(_ document: TimelineDocument, _ layout: TimelineLayout) -> String {
        guard !document.findings.isEmpty else { return "<h2>Findings</h2>\n<p>None: no premature write or other lifecycle violation was recorded.</p>\n" }
        var html = "<h2>Findings</h2>\n<table class=\"findings\">\n<tr><th>#</th><th>at</th><th>kind</th><th>database</th><th>phase</th><th>source</th><th>statement</th><th>note</th></tr>\n"
        for (index, finding) in document.findings.enumerated() {
            let at = TimelineLayout.label(milliseconds: max(0, finding.time.timelineMilliseconds - layout.origin))
            let cells = [
                "\(index + 1)", Self.escape(at), Self.escape(finding.kind.rawValue), Self.escape(finding.database),
                Self.escape(finding.phase?.rawValue ?? "—"), Self.escape(finding.source?.description ?? "—"),
                finding.statement.map { "<code>\(Self.escape(String($0.prefix(500))))</code>" } ?? "—",
                Self.escape([finding.sqlState.map { "SQLSTATE \($0)" }, finding.applicationName.map { "session \($0)" }, finding.note]
                    .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " — ")),
            ]
            html += "<tr id=\"f\(index + 1)\">" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        return html + "</table>\n"
    }

    private static func findingTooltip(_ finding: LifecycleViolation, number: Int, _ layout: TimelineLayout) -> String {
        var parts = ["#\(number) \(finding.kind.rawValue)", "database \(finding.database)"]
        if let phase = finding.phase { parts.append("phase \(phase)") }
        if let source = finding.source { parts.append("registered at \(source)") }
        parts.append("at \(TimelineLayout.label(milliseconds: max(0, finding.time.timelineMilliseconds - layout.origin)))")
        if let statement = finding.statement { parts.append(String(statement.prefix(300))) }
        return parts.joined(separator: "\n")
    }

    private static func verdictCode(_ outcome: TimelineRow.Outcome?) -> String {
        switch outcome {
        case .recycled: "vr"
        case .reset: "vs"
        default: "vx"
        }
    }

    /// `value` with at most one decimal, as SVG and CSS numbers are written.
    package static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    /// `text` with `&`, `<`, `>` and `"` escaped for HTML text and attributes.
    package static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}

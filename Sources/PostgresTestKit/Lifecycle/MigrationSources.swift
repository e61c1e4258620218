import Foundation

/// The source files that key a template of Swift migrations
/// (``SchemaMigrations/closure(sources:filePath:fileID:line:_:)``): paths relative to the
/// package root, found from the file of the caller.
struct MigrationSources: Sendable {
    /// The files and directories, as given.
    let paths: [String]
    /// The caller's `#filePath`, from which the package root is found.
    let callerFile: String

    /// The nearest directory above `callerFile` that holds a `Package.swift`.
    func packageRoot() throws -> URL {
        var directory = URL(fileURLWithPath: callerFile).deletingLastPathComponent()
        while directory.path != "/" && !directory.path.isEmpty {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) { return directory }
            directory = directory.deletingLastPathComponent()
        }
        throw TestKitError(.configuration, "SchemaMigrations.closure(sources:) found no Package.swift above \(callerFile), so it cannot tell where \(paths) are: the sources are read at run time, relative to the package root. Run the tests from a checkout of the package, or key the template with closure(fingerprint:).")
    }

    /// Every file's path (relative to the package root) and contents, in path order.
    func fingerprint() throws -> String {
        let root = try packageRoot()
        var files: [String] = []
        for path in paths {
            let url = root.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw TestKitError(.configuration, "SchemaMigrations.closure(sources:): '\(path)' does not exist under the package root \(root.path). Give paths relative to the directory that holds Package.swift, for example \"Sources/App/Migrations\".")
            }
            guard isDirectory.boolValue else { files.append(path); continue }
            guard let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else { continue }
            for case let file as URL in walker where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                files.append(path + "/" + String(file.standardizedFileURL.path.dropFirst(url.standardizedFileURL.path.count + 1)))
            }
        }
        guard !files.isEmpty else {
            throw TestKitError(.configuration, "SchemaMigrations.closure(sources:): \(paths) hold no files under \(root.path); a template keyed by nothing would never be rebuilt.")
        }
        return try Set(files).sorted().map { relative in
            let data = try Data(contentsOf: root.appendingPathComponent(relative))
            return "source:\(relative)\n" + String(decoding: data, as: UTF8.self)
        }.joined(separator: "\n\u{1e}")
    }
}

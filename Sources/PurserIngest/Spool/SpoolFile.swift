#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file system call of the spool failed.
public struct SpoolIOError: Error, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32

    public var description: String {
        "spool \(operation) failed for \(path): \(String(cString: strerror(errno)))"
    }
}

/// The few POSIX calls the spool needs, on an owned descriptor. Durability needs `fsync`, which
/// Foundation's file APIs do not make explicit enough, so the spool talks to the system directly.
final class SpoolFile {
    let path: String
    private let descriptor: Int32

    init(path: String, flags: Int32 = O_RDWR | O_CREAT, mode: mode_t = 0o600) throws(SpoolIOError) {
        let descriptor = open(path, flags | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw SpoolIOError(operation: "open", path: path, errno: errno) }
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    func size() throws(SpoolIOError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw error("stat") }
        return Int(info.st_size)
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int) throws(SpoolIOError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                pwrite(descriptor, buffer.baseAddress! + written, buffer.count - written, off_t(offset + written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw error("write")
            }
            written += result
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(count: Int, at offset: Int) throws(SpoolIOError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var total = 0
        while total < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + total, count - total, off_t(offset + total))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw error("read")
            }
            if result == 0 { break }
            total += result
        }
        bytes.removeLast(count - total)
        return bytes
    }

    func synchronize() throws(SpoolIOError) {
        guard fsync(descriptor) == 0 else { throw error("fsync") }
    }

    func truncate(to size: Int) throws(SpoolIOError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw error("truncate") }
    }

    /// Takes an exclusive advisory lock without waiting, so two processes never share one spool.
    func lockExclusively() throws(SpoolIOError) {
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { throw error("lock") }
    }

    private func error(_ operation: String) -> SpoolIOError {
        SpoolIOError(operation: operation, path: path, errno: errno)
    }

    /// Makes a directory's entries (created, renamed, removed files) durable.
    static func synchronizeDirectory(_ path: String) throws(SpoolIOError) {
        try SpoolFile(path: path, flags: O_RDONLY | O_DIRECTORY).synchronize()
    }

    static func remove(_ path: String) throws(SpoolIOError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw SpoolIOError(operation: "remove", path: path, errno: errno)
        }
    }

    static func rename(_ source: String, to destination: String) throws(SpoolIOError) {
        guard posixRename(source, destination) == 0 else {
            throw SpoolIOError(operation: "rename", path: destination, errno: errno)
        }
    }

    static func makeDirectory(_ path: String) throws(SpoolIOError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            guard mkdir(prefix, 0o700) == 0 || errno == EEXIST else {
                throw SpoolIOError(operation: "mkdir", path: prefix, errno: errno)
            }
        }
    }

    static func listDirectory(_ path: String) throws(SpoolIOError) -> [String] {
        guard let directory = opendir(path) else {
            throw SpoolIOError(operation: "list", path: path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            names.append(name)
        }
        return names
    }
}

/// The C `rename`, reachable by this name inside ``SpoolFile`` whose own `rename` shadows it.
private func posixRename(_ source: String, _ destination: String) -> Int32 {
    rename(source, destination)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file. Every mmap call of the package goes through here.
///
/// The mapping lives as long as the object. Bytes are never copied: readers and decoders see
/// `bytes` directly. `releasePages(in:)` drops the pages of a range that was already read, so a
/// streamed pass over a large file keeps its resident set bounded.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The mapped bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer

    private let base: UnsafeMutableRawPointer?
    private let length: Int

    /// Maps `path` read-only.
    /// - Throws: `ReadError` with `.notFound` or `.unreadable`.
    public init(path: String) throws(ReadError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let err = errno
            throw ReadError(path: path, code: err == ENOENT ? .notFound : .unreadable,
                            message: err == ENOENT ? "no such file" : "cannot open: \(String(cString: strerror(err)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ReadError(path: path, code: .unreadable, message: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ReadError(path: path, code: .unreadable, message: "not a regular file")
        }
        let size = Int(info.st_size)
        length = size
        if size == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let pointer, pointer != MAP_FAILED else {
            throw ReadError(path: path, code: .unreadable, message: "cannot map: \(String(cString: strerror(errno)))")
        }
        base = pointer
        bytes = UnsafeRawBufferPointer(start: pointer, count: size)
    }

    deinit {
        if let base { munmap(base, length) }
    }

    /// The file's size in bytes.
    public var count: Int { length }

    /// Advises the kernel that `range` will be read front to back soon.
    public func adviseSequential(_ range: Range<Int>) {
        advise(range, MADV_SEQUENTIAL)
    }

    /// Drops the resident pages wholly inside `range`; later reads fault them in again from the file.
    public func releasePages(in range: Range<Int>) {
        advise(range, MADV_DONTNEED)
    }

    private func advise(_ range: Range<Int>, _ advice: Int32) {
        guard let base, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lower = (max(0, range.lowerBound) + page - 1) / page * page
        let upper = min(length, range.upperBound) / page * page
        guard upper > lower else { return }
        _ = madvise(base + lower, upper - lower, advice)
    }
}

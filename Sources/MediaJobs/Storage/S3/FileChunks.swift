import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// A byte range of a file read as buffers, one `pread(2)` per buffer on NIO's blocking-I/O pool:
/// an upload's body, pulled as the connection can take it, so memory stays at one buffer per
/// upload whatever the file's size.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    /// Buffers of 256 KiB: large enough that the pool hop costs little per byte.
    static let chunkSize = 256 * 1024

    let descriptor: Int32
    let offset: Int64
    let length: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        let descriptor: Int32
        var position: Int64
        let end: Int64

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let count = Int(Swift.min(Int64(FileChunks.chunkSize), end - position))
            let (descriptor, position) = (self.descriptor, self.position)
            let buffer = try await NIOThreadPool.singleton.runIfActive { () throws -> ByteBuffer in
                var buffer = ByteBufferAllocator().buffer(capacity: count)
                _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw -> Int in
                    var done = 0
                    while done < count {
                        let result = pread(descriptor, raw.baseAddress! + done, count - done, off_t(position) + off_t(done))
                        if result < 0, errno == EINTR { continue }
                        guard result > 0 else { throw S3Error.file(result == 0 ? "the file is shorter than recorded" : "read failed: errno \(errno)") }
                        done += result
                    }
                    return done
                }
                return buffer
            }
            self.position += Int64(buffer.readableBytes)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(descriptor: descriptor, position: offset, end: offset + length)
    }
}

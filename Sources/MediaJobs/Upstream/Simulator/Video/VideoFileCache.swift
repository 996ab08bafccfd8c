import Synchronization

/// Generated video files by name: each made once however many downloads ask for it at the same
/// time, and kept within a byte budget (least recently used dropped first).
///
/// A video takes a moment to generate (a second of CPU for 15 s of 720p in a debug build) and a
/// player fetches it in several ranges, so the simulator must not redo it per request.
final class VideoFileCache: Sendable {
    private struct Entry {
        /// The generation, shared by everyone who asks while it runs; its value once done.
        var file: Task<[UInt8], Never>
        /// Bytes, once known (0 while generating: such entries are never dropped).
        var size: Int
        /// When it was last asked for, in `State.uses` ticks.
        var lastUse: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var uses: UInt64 = 0
        var bytes = 0
    }

    /// Most bytes of finished files kept; the file just made is kept even when it alone is bigger.
    let byteLimit: Int
    private let state = Mutex(State())

    /// An empty cache holding at most `byteLimit` bytes of finished files.
    init(byteLimit: Int) {
        self.byteLimit = byteLimit
    }

    /// The file called `name`, from the cache or from `make` (run once per name while it is kept).
    func file(named name: String, make: @escaping @Sendable () async -> [UInt8]) async -> [UInt8] {
        let file = state.withLock { state in
            state.uses += 1
            if var entry = state.entries[name] {
                entry.lastUse = state.uses
                state.entries[name] = entry
                return entry.file
            }
            let file = Task { await make() }
            state.entries[name] = Entry(file: file, size: 0, lastUse: state.uses)
            return file
        }
        let bytes = await file.value
        state.withLock { state in
            // Nothing made (the render refused, or the thread pool was shut down): try again next time.
            if bytes.isEmpty, state.entries[name]?.size == 0 {
                state.entries[name] = nil
                return
            }
            if var entry = state.entries[name], entry.size == 0 {
                entry.size = max(bytes.count, 1)
                state.entries[name] = entry
                state.bytes += entry.size
            }
            while state.bytes > byteLimit {
                let finished = state.entries.filter { $0.key != name && $0.value.size > 0 }
                guard let oldest = finished.min(by: { $0.value.lastUse < $1.value.lastUse }) else { break }
                state.entries[oldest.key] = nil
                state.bytes -= oldest.value.size
            }
        }
        return bytes
    }

    /// Names of the files kept now (finished or being made).
    var names: Set<String> { state.withLock { Set($0.entries.keys) } }

    /// Bytes of the finished files kept now.
    var bytes: Int { state.withLock { $0.bytes } }
}

import CZlib
import Foundation

/// Generates deterministic 8-bit RGB PNG images for the upstream simulator.
public enum PNGEncoder {
    /// Largest accepted width or height; bigger requests are clamped so a bad argument cannot exhaust memory.
    public static let maximumDimension = 16_384

    /// The eight-byte PNG file signature.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Builds a PNG (colour type 2, bit depth 8) showing a smooth gradient whose colours and waves derive from `seed`.
    ///
    /// `width`/`height` are clamped to `1...maximumDimension`. Rows are streamed through zlib in batches, so
    /// peak memory is roughly the compressed size rather than the raw `height * (1 + 3 * width)` bytes.
    public static func image(width: Int, height: Int, seed: UInt64) -> [UInt8] {
        let width = min(max(width, 1), maximumDimension)
        let height = min(max(height, 1), maximumDimension)
        let tables = Palette(width: width, height: height, seed: seed)
        return encode(width: width, height: height) { y, buffer, offset in tables.fillRow(y, into: buffer, at: offset) }
    }

    /// Writes scanline `y` at `offset` in the buffer: its filter type byte (0, none, unless the source filters), then `3 * width` bytes.
    typealias RowSource = (_ y: Int, _ buffer: UnsafeMutableBufferPointer<UInt8>, _ offset: Int) -> Void

    /// Builds an 8-bit RGB PNG of `width` × `height` (both in `1...maximumDimension`) whose rows `fillRow` writes.
    ///
    /// Rows are streamed through zlib in batches, so peak memory is roughly the compressed size
    /// rather than the raw `height * (1 + 3 * width)` bytes.
    static func encode(width: Int, height: Int, fillRow: RowSource) -> [UInt8] {
        precondition((1...maximumDimension).contains(width) && (1...maximumDimension).contains(height), "PNG size out of range")
        var output = signature
        var ihdr: [UInt8] = []
        appendBE(&ihdr, UInt32(width))
        appendBE(&ihdr, UInt32(height))
        ihdr.append(contentsOf: [8, 2, 0, 0, 0])  // depth 8, RGB, deflate, filter method 0, no interlace
        appendChunk(&output, type: "IHDR", data: ihdr)

        let rowBytes = 1 + 3 * width
        // Batches of ~256 KiB keep zlib calls coarse without holding the whole raw image.
        let rowsPerBatch = max(1, (256 * 1024) / rowBytes)
        var batch = [UInt8](repeating: 0, count: rowsPerBatch * rowBytes)

        let compressor = Deflater()
        var idat: [UInt8] = []
        idat.reserveCapacity(64 * 1024)
        var y = 0
        while y < height && compressor.succeeded {
            let rows = min(rowsPerBatch, height - y)
            batch.withUnsafeMutableBufferPointer { buffer in
                for r in 0..<rows {
                    fillRow(y + r, buffer, r * rowBytes)
                }
            }
            let isLast = y + rows == height
            compressor.feed(batch, count: rows * rowBytes, finish: isLast) { produced in
                idat.append(contentsOf: produced)
                // Splitting IDAT keeps every chunk bounded; decoders simply concatenate them.
                if idat.count >= 1 << 20 {
                    appendChunk(&output, type: "IDAT", data: idat)
                    idat.removeAll(keepingCapacity: true)
                }
            }
            y += rows
        }
        if compressor.succeeded {
            appendChunk(&output, type: "IDAT", data: idat)
        } else {
            // zlib only fails on allocation problems; restart with stored blocks so we still return a valid PNG.
            output.removeSubrange((signature.count + 25)...)  // keep signature + IHDR (25 bytes)
            appendStoredImageData(&output, width: width, height: height, fillRow: fillRow)
        }
        appendChunk(&output, type: "IEND", data: [])
        return output
    }

    /// Computes the CRC-32 PNG stores after each chunk (over type and data) using zlib.
    public static func crc(type: [UInt8], data: [UInt8]) -> UInt32 {
        var value = type.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        value = data.withUnsafeBufferPointer { crc32(value, $0.baseAddress, uInt($0.count)) }
        return UInt32(truncatingIfNeeded: value)
    }

    /// Writes the image as an uncompressed zlib stream (stored deflate blocks) split over IDAT chunks.
    private static func appendStoredImageData(_ output: inout [UInt8], width: Int, height: Int, fillRow: RowSource) {
        let rowBytes = 1 + 3 * width
        var raw = [UInt8](repeating: 0, count: rowBytes)
        var adler = adler32(0, nil, 0)
        var idat: [UInt8] = [0x78, 0x01]
        var pending: [UInt8] = []
        pending.reserveCapacity(65_535)
        func flushBlock(final: Bool) {
            idat.append(final ? 1 : 0)
            let length = UInt16(pending.count)
            idat.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)])
            idat.append(contentsOf: pending)
            pending.removeAll(keepingCapacity: true)
            if idat.count >= 1 << 20 {
                appendChunk(&output, type: "IDAT", data: idat)
                idat.removeAll(keepingCapacity: true)
            }
        }
        for y in 0..<height {
            raw.withUnsafeMutableBufferPointer { fillRow(y, $0, 0) }
            adler = raw.withUnsafeBufferPointer { adler32(adler, $0.baseAddress, uInt($0.count)) }
            var index = 0
            while index < raw.count {
                let take = min(65_535 - pending.count, raw.count - index)
                pending.append(contentsOf: raw[index..<(index + take)])
                index += take
                if pending.count == 65_535 { flushBlock(final: false) }
            }
        }
        flushBlock(final: true)
        appendBE(&idat, UInt32(truncatingIfNeeded: adler))
        appendChunk(&output, type: "IDAT", data: idat)
    }

    /// Appends a length/type/data/CRC chunk.
    private static func appendChunk(_ output: inout [UInt8], type: String, data: [UInt8]) {
        let typeBytes = Array(type.utf8)
        appendBE(&output, UInt32(data.count))
        output.append(contentsOf: typeBytes)
        output.append(contentsOf: data)
        appendBE(&output, crc(type: typeBytes, data: data))
    }

    /// Appends a 32-bit integer in network byte order, as every PNG integer field is big-endian.
    private static func appendBE(_ bytes: inout [UInt8], _ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// Per-column and per-row colour contributions; a pixel is their sum, so rows cost additions only.
    private struct Palette {
        /// Interleaved RGB contribution of each column, each channel in 0...127.
        let columns: [UInt8]
        /// RGB contribution of each row, each channel in 0...128.
        let rows: [UInt8]

        /// Precomputes the seeded waves; the halves never sum past 255, so no clamping is needed per pixel.
        init(width: Int, height: Int, seed: UInt64) {
            var state = seed
            func nextUnit() -> Double {
                // SplitMix64 step: deterministic across platforms, unlike the system RNG.
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                return Double(z >> 11) / Double(1 << 53)
            }
            func wave(count: Int, channels: Int, amplitude: Double) -> [UInt8] {
                var table = [UInt8](repeating: 0, count: count * channels)
                for c in 0..<channels {
                    let cycles = 0.5 + 1.5 * nextUnit()
                    let phase = 2 * Double.pi * nextUnit()
                    let denominator = Double(max(count - 1, 1))
                    for i in 0..<count {
                        let t = Double(i) / denominator
                        let value = (0.5 + 0.5 * sin(2 * Double.pi * cycles * t + phase)) * amplitude
                        table[i * channels + c] = UInt8(min(max(value.rounded(), 0), amplitude))
                    }
                }
                return table
            }
            columns = wave(count: width, channels: 3, amplitude: 127)
            rows = wave(count: height, channels: 3, amplitude: 128)
        }

        /// Writes filter byte 0 followed by the RGB pixels of row `y`.
        func fillRow(_ y: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
            buffer[offset] = 0
            let r = rows[y * 3], g = rows[y * 3 + 1], b = rows[y * 3 + 2]
            columns.withUnsafeBufferPointer { cols in
                var o = offset + 1
                var i = 0
                while i < cols.count {
                    buffer[o] = cols[i] &+ r
                    buffer[o + 1] = cols[i + 1] &+ g
                    buffer[o + 2] = cols[i + 2] &+ b
                    o += 3
                    i += 3
                }
            }
        }
    }

    /// Streaming zlib compressor; a class so the `z_stream` zlib points back into has a stable address and a deinit.
    private final class Deflater {
        /// The zlib stream, heap-allocated because zlib keeps a pointer back to it.
        private let stream: UnsafeMutablePointer<z_stream>
        /// Whether `deflateInit` succeeded, so `deinit` knows whether to call `deflateEnd`.
        private let initialized: Bool
        /// False once any zlib call reports an error.
        private(set) var succeeded: Bool
        /// Scratch output buffer handed to zlib.
        private var scratch: [UInt8]

        /// Initialises deflate at a fast level: the images are simulator fixtures, so speed beats size.
        init() {
            stream = .allocate(capacity: 1)
            stream.initialize(to: z_stream())
            let status = deflateInit_(stream, 3, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            initialized = status == Z_OK
            succeeded = initialized
            scratch = [UInt8](repeating: 0, count: 64 * 1024)
        }

        deinit {
            if initialized {
                deflateEnd(stream)
            }
            stream.deinitialize(count: 1)
            stream.deallocate()
        }

        /// Compresses the first `count` bytes of `input`, passing each produced block to `sink`.
        func feed(_ input: [UInt8], count: Int, finish: Bool, sink: ([UInt8]) -> Void) {
            guard succeeded else { return }
            let stream = self.stream
            var ok = true
            input.withUnsafeBufferPointer { inBuf in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.pointee.avail_in = uInt(count)
                let flush = finish ? Z_FINISH : Z_NO_FLUSH
                while true {
                    let (status, produced) = scratch.withUnsafeMutableBufferPointer { outBuf in
                        stream.pointee.next_out = outBuf.baseAddress
                        stream.pointee.avail_out = uInt(outBuf.count)
                        let status = deflate(stream, flush)
                        return (status, outBuf.count - Int(stream.pointee.avail_out))
                    }
                    if produced > 0 {
                        sink(Array(scratch[0..<produced]))
                    }
                    if status == Z_STREAM_END { break }
                    if status != Z_OK && status != Z_BUF_ERROR {
                        ok = false
                        break
                    }
                    // Without Z_FINISH we are done once all input is consumed and zlib has nothing left to emit
                    // (spare output room, or Z_BUF_ERROR meaning "no progress possible", which is not an error here).
                    let drained = stream.pointee.avail_out != 0 || status == Z_BUF_ERROR
                    if !finish && stream.pointee.avail_in == 0 && drained { break }
                    // With Z_FINISH and fresh output space, no progress would loop forever.
                    if status == Z_BUF_ERROR && produced == 0 {
                        ok = false
                        break
                    }
                }
                stream.pointee.next_in = nil
            }
            succeeded = ok
        }
    }
}

import Testing

@testable import MediaJobs

/// Reads a little-endian unsigned integer of `width` bytes at `offset`.
private func readLE(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> UInt32 {
    (0..<width).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
}

/// Returns the four ASCII characters at `offset`.
private func tag(_ bytes: [UInt8], _ offset: Int) -> String {
    String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self)
}

/// Unit tests for WAVEncoder.
@Suite("WAVEncoder")
struct WAVEncoderTests {
    /// Header fields describe 16-bit mono PCM.
    @Test("header fields describe 16-bit mono PCM", arguments: [8_000, 22_050, 44_100])
    func headerFields(sampleRate: Int) {
        let wav = WAVEncoder.melody(seed: 1, seconds: 0.5, sampleRate: sampleRate)
        #expect(tag(wav, 0) == "RIFF")
        #expect(tag(wav, 8) == "WAVE")
        #expect(tag(wav, 12) == "fmt ")
        #expect(readLE(wav, 16, 4) == 16)
        #expect(readLE(wav, 20, 2) == 1)  // PCM
        #expect(readLE(wav, 22, 2) == 1)  // mono
        #expect(readLE(wav, 24, 4) == UInt32(sampleRate))
        #expect(readLE(wav, 28, 4) == UInt32(sampleRate * 2))  // byte rate
        #expect(readLE(wav, 32, 2) == 2)  // block align
        #expect(readLE(wav, 34, 2) == 16)
        #expect(tag(wav, 36) == "data")
        #expect(Int(readLE(wav, 4, 4)) == wav.count - 8)
    }

    /// Frame count is round(seconds * sampleRate).
    @Test(
        "frame count is round(seconds * sampleRate)",
        arguments: [(1.0, 22_050), (0.1, 22_050), (2.5, 8_000), (1.23456, 44_100), (0.00001, 22_050), (10, 22_050)]
    )
    func frameCount(seconds: Double, sampleRate: Int) {
        let wav = WAVEncoder.melody(seed: 7, seconds: seconds, sampleRate: sampleRate)
        let frames = Int((seconds * Double(sampleRate)).rounded())
        #expect(Int(readLE(wav, 40, 4)) == frames * 2)
        #expect(wav.count == 44 + frames * 2)
    }

    /// Non-positive or non-finite durations give an empty but valid file.
    @Test("non-positive or non-finite durations give an empty but valid file", arguments: [0, -1, Double.nan, -Double.infinity])
    func emptyDurations(seconds: Double) {
        let wav = WAVEncoder.melody(seed: 3, seconds: seconds)
        #expect(wav.count == 44)
        #expect(readLE(wav, 40, 4) == 0)
        #expect(readLE(wav, 4, 4) == 36)
    }

    /// Output is deterministic per seed and differs across seeds.
    @Test("output is deterministic per seed and differs across seeds")
    func determinism() {
        #expect(WAVEncoder.melody(seed: 5, seconds: 1) == WAVEncoder.melody(seed: 5, seconds: 1))
        #expect(WAVEncoder.melody(seed: 5, seconds: 1) != WAVEncoder.melody(seed: 6, seconds: 1))
    }

    /// Audio is audible and starts and ends silent (no clicks).
    @Test("audio is audible and starts and ends silent (no clicks)")
    func envelope() {
        let wav = WAVEncoder.melody(seed: 11, seconds: 3)
        let samples = stride(from: 44, to: wav.count, by: 2).map { Int16(bitPattern: UInt16(readLE(wav, $0, 2))) }
        #expect(samples.first == 0)
        #expect(samples.last == 0)
        #expect(samples.map { abs(Int($0)) }.max() ?? 0 > 1_000)
    }

    /// Header helper computes derived fields.
    @Test("header helper computes derived fields")
    func headerHelper() {
        let header = WAVEncoder.header(dataBytes: 1_000, sampleRate: 48_000, channels: 2, bitsPerSample: 16)
        #expect(header.count == 44)
        #expect(readLE(header, 4, 4) == 1_036)
        #expect(readLE(header, 22, 2) == 2)
        #expect(readLE(header, 28, 4) == 192_000)
        #expect(readLE(header, 32, 2) == 4)
        #expect(readLE(header, 40, 4) == 1_000)
    }
}

import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import MediaJobs

/// The fields of a canonical 44-byte PCM WAV header.
struct WAVHeader {
    var channels: Int
    var sampleRate: Int
    var bitsPerSample: Int
    var frames: Int

    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 44, Array(bytes[0..<4]) == Array("RIFF".utf8), Array(bytes[8..<12]) == Array("WAVE".utf8) else { return nil }
        func le(_ offset: Int, _ count: Int) -> Int { (0..<count).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) } }
        channels = le(22, 2)
        sampleRate = le(24, 4)
        bitsPerSample = le(34, 2)
        guard channels > 0, bitsPerSample > 0 else { return nil }
        frames = le(40, 4) / (channels * bitsPerSample / 8)
    }
}

/// Width and height from a PNG's IHDR, after checking the signature.
struct PNGHeader {
    var width: Int
    var height: Int

    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 24, Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
        func be(_ offset: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(bytes[offset + $1]) } }
        width = be(16)
        height = be(20)
    }
}

import Foundation

/// Generates small, deterministic RIFF/WAVE files for the upstream simulator.
public enum WAVEncoder {
    /// Largest payload a RIFF file can describe: the RIFF size field (data + 36) must fit in 32 bits.
    public static let maximumDataBytes = Int(UInt32.max) - 36

    /// Notes of the A-minor / C-major pentatonic scale (C4...C6); any sequence of these sounds consonant.
    private static let scale: [Double] = [
        261.63, 293.66, 329.63, 392.00, 440.00,
        523.25, 587.33, 659.25, 783.99, 880.00, 1046.50,
    ]

    /// Builds a PCM 16-bit mono WAV holding a seeded pentatonic melody of exactly `round(seconds * sampleRate)` frames.
    ///
    /// Non-finite or negative `seconds` yield an empty (but valid) file, and `sampleRate` is clamped to
    /// 1...384_000 so that a bad argument can never trap or produce an unreadable header.
    public static func melody(seed: UInt64, seconds: Double, sampleRate: Int = 22_050) -> [UInt8] {
        let rate = min(max(sampleRate, 1), 384_000)
        let wanted = seconds.isFinite && seconds > 0 ? (seconds * Double(rate)).rounded() : 0
        // Clamp before converting so that a huge duration cannot overflow Int or the 32-bit RIFF size.
        let frameCount = Int(min(wanted, Double(maximumDataBytes / 2)))
        let dataBytes = frameCount * 2

        var output = header(dataBytes: dataBytes, sampleRate: rate, channels: 1, bitsPerSample: 16)
        let headerSize = output.count
        output.append(contentsOf: repeatElement(0, count: dataBytes))
        guard frameCount > 0 else { return output }

        var rng = SplitMix64(seed: seed)
        let sampleRateD = Double(rate)
        // Short notes (quarter/half/eighth) keep the tune moving; lengths come from the seed too.
        let noteLengths = [0.25, 0.25, 0.5, 0.125]
        var scaleIndex = Int(rng.next() % UInt64(scale.count))

        output.withUnsafeMutableBytes { buffer in
            let samples = UnsafeMutableRawBufferPointer(rebasing: buffer[headerSize...])
            var start = 0
            while start < frameCount {
                let noteSeconds = noteLengths[Int(rng.next() % UInt64(noteLengths.count))]
                let length = min(max(Int(noteSeconds * sampleRateD), 1), frameCount - start)
                // A small random walk over the scale gives a melodic contour rather than random jumps.
                let step = Int(rng.next() % 5) - 2
                scaleIndex = min(max(scaleIndex + step, 0), scale.count - 1)
                let isRest = rng.next() % 10 == 0
                if !isRest {
                    renderNote(
                        into: samples, start: start, length: length,
                        frequency: scale[scaleIndex], sampleRate: sampleRateD
                    )
                }
                start += length
            }
        }
        return output
    }

    /// Returns the canonical 44-byte PCM WAV header for a `data` chunk of `dataBytes` bytes.
    ///
    /// Out-of-range values are clamped to the field widths rather than trapping.
    public static func header(dataBytes: Int, sampleRate: Int, channels: Int, bitsPerSample: Int) -> [UInt8] {
        let data = UInt32(clamping: min(max(dataBytes, 0), maximumDataBytes))
        let channels16 = UInt16(clamping: max(channels, 1))
        let bits16 = UInt16(clamping: max(bitsPerSample, 1))
        let rate32 = UInt32(clamping: max(sampleRate, 1))
        let blockAlign = UInt32(channels16) * ((UInt32(bits16) + 7) / 8)
        let byteRate = rate32.multipliedReportingOverflow(by: blockAlign)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(44)
        bytes.append(contentsOf: Array("RIFF".utf8))
        appendLE(&bytes, UInt32(36) + data)
        bytes.append(contentsOf: Array("WAVE".utf8))
        bytes.append(contentsOf: Array("fmt ".utf8))
        appendLE(&bytes, UInt32(16))
        appendLE(&bytes, UInt16(1))  // WAVE_FORMAT_PCM
        appendLE(&bytes, channels16)
        appendLE(&bytes, rate32)
        appendLE(&bytes, byteRate.overflow ? UInt32.max : byteRate.partialValue)
        appendLE(&bytes, UInt16(clamping: blockAlign))
        appendLE(&bytes, bits16)
        bytes.append(contentsOf: Array("data".utf8))
        appendLE(&bytes, data)
        return bytes
    }

    /// Writes one enveloped note; the linear attack/release ramps start and end at zero so joins never click.
    private static func renderNote(
        into samples: UnsafeMutableRawBufferPointer,
        start: Int, length: Int, frequency: Double, sampleRate: Double
    ) {
        let attack = max(1, min(Int(0.010 * sampleRate), length / 4))
        let release = max(1, min(Int(0.040 * sampleRate), length / 3))
        let omega = 2 * Double.pi * frequency / sampleRate
        // Gentle exponential decay makes the tone sound plucked instead of like a test signal.
        let decayPerSample = exp(-2.5 / sampleRate)
        let peak = 0.30 * 32_767.0
        var decay = 1.0
        for i in 0..<length {
            var envelope = decay
            if i < attack {
                envelope *= Double(i) / Double(attack)
            }
            let remaining = length - 1 - i
            if remaining < release {
                envelope *= Double(remaining) / Double(release)
            }
            let phase = omega * Double(i)
            // A couple of soft harmonics make it warmer than a pure sine.
            let wave = 0.75 * sin(phase) + 0.20 * sin(2 * phase) + 0.05 * sin(3 * phase)
            let value = Int16(clamping: Int((wave * envelope * peak).rounded()))
            samples.storeBytes(of: value.littleEndian, toByteOffset: (start + i) * 2, as: Int16.self)
            decay *= decayPerSample
        }
    }

    /// Appends a fixed-width integer in little-endian order, as RIFF requires.
    private static func appendLE<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Tiny deterministic PRNG so simulator output depends only on the seed, never on the platform RNG.
    private struct SplitMix64: RandomNumberGenerator, Sendable {
        /// Current generator state.
        private var state: UInt64

        /// Creates a generator whose sequence is fully determined by `seed`.
        init(seed: UInt64) {
            state = seed
        }

        /// Returns the next 64 pseudo-random bits.
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

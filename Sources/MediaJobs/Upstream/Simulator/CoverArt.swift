import Foundation

/// Cover art for the simulator's music tracks: a record on a seeded two-colour gradient, as a PNG.
public enum CoverArt {
    /// Width and height of the square picture, in pixels.
    public static let side = 512

    /// The cover for `seed` (the simulator seeds it with the track's file name, so each track has its own).
    public static func png(seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        func colour() -> (Double, Double, Double) {
            (Double(random.next() % 256), Double(random.next() % 256), Double(random.next() % 256))
        }
        let top = colour(), bottom = colour(), label = colour()
        let grooveSpacing = 3.0 + Double(random.next() % 4)
        let size = Double(side), centre = Double(side) / 2
        return PNGEncoder.encode(width: side, height: side) { y, buffer, offset in
            buffer[offset] = 0  // no filter
            let t = Double(y) / (size - 1)
            let background = (top.0 + (bottom.0 - top.0) * t, top.1 + (bottom.1 - top.1) * t, top.2 + (bottom.2 - top.2) * t)
            for x in 0..<side {
                let dx = Double(x) + 0.5 - centre, dy = Double(y) + 0.5 - centre
                let radius = (dx * dx + dy * dy).squareRoot() / size
                let pixel: (Double, Double, Double)
                if radius < 0.012 || radius >= 0.42 {
                    pixel = background  // the spindle hole, and around the record
                } else if radius < 0.15 {
                    pixel = label
                } else {
                    // Grooves: faint rings, lit a little more towards the top left.
                    let ring = sin(radius * size / grooveSpacing * Double.pi) > 0.7 ? 14.0 : 0
                    let sheen = max(0, -(dx + dy) / size) * 40
                    pixel = (18 + ring + sheen, 18 + ring + sheen, 22 + ring + sheen)
                }
                let o = offset + 1 + x * 3
                buffer[o] = UInt8(min(max(pixel.0, 0), 255))
                buffer[o + 1] = UInt8(min(max(pixel.1, 0), 255))
                buffer[o + 2] = UInt8(min(max(pixel.2, 0), 255))
            }
        }
    }
}

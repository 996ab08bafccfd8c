import Foundation

/// What the simulated video shows: a seeded dark gradient, a bright square sliding back and forth,
/// and a progress bar along the bottom that fills over the video's duration.
///
/// Built so that little changes from one frame to the next: the square sits on whole macroblock
/// rows and moves 8 pixels a frame, so each frame touches two macroblock columns of it, and the
/// bar grows a few pixels. `changedMacroblocks(at:)` names exactly those macroblocks, which the
/// encoder codes; the rest of the picture is skipped.
struct VideoScene {
    /// An axis-aligned rectangle of pixels, `x..<x+width` by `y..<y+height`.
    struct PixelRect: Equatable {
        var x: Int, y: Int, width: Int, height: Int

        /// Whether the pixel at (`px`, `py`) is inside.
        func contains(_ px: Int, _ py: Int) -> Bool {
            px >= x && px < x + width && py >= y && py < y + height
        }
    }

    /// An 8-bit RGB colour and its BT.709 limited-range Y′CbCr twin (what `H264Encoder`'s VUI declares).
    struct Colour {
        var red: UInt8, green: UInt8, blue: UInt8
        var luma: UInt8, cb: UInt8, cr: UInt8

        init(red: UInt8, green: UInt8, blue: UInt8) {
            self.red = red
            self.green = green
            self.blue = blue
            let (y, cb, cr) = Self.yCbCr(Double(red), Double(green), Double(blue))
            luma = Self.sample(y)
            self.cb = Self.sample(cb)
            self.cr = Self.sample(cr)
        }

        /// BT.709 conversion of RGB (0…255) to limited-range Y′CbCr, unrounded.
        static func yCbCr(_ r: Double, _ g: Double, _ b: Double) -> (Double, Double, Double) {
            let luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
            return (16 + luma * 219 / 255, 128 + (b - luma) / 1.8556 * 224 / 255, 128 + (r - luma) / 1.5748 * 224 / 255)
        }

        /// A sample rounded into the legal limited range (never 0, which old decoders reject in PCM).
        static func sample(_ value: Double) -> UInt8 {
            UInt8(min(max(value.rounded(), 16), 240))
        }
    }

    /// Pixels the square moves per frame; a multiple of 8 keeps each frame's change in two macroblock columns.
    static let step = 8
    /// Height of the progress bar in pixels.
    static let barHeight = 8
    /// Bright colours for the square, one picked by the seed; the background stays dark under them.
    private static let squareColours: [(UInt8, UInt8, UInt8)] = [
        (255, 214, 10), (0, 229, 255), (255, 64, 129), (118, 255, 3), (255, 145, 0), (224, 64, 251),
    ]

    /// Picture size and frame rate.
    let format: H264StreamFormat
    /// Frames in the whole video (the bar is full on the last).
    let frameCount: Int
    /// Side of the square, a multiple of 16.
    let squareSide: Int
    /// Top of the square, a multiple of 16 (it moves only sideways).
    let squareTop: Int
    /// Colour of the square.
    let squareColour: Colour
    /// Colour of the progress bar.
    let barColour = Colour(red: 240, green: 240, blue: 240)

    /// Background RGB, interleaved per column of the coded width (each channel 0…110).
    private let columnRGB: [UInt8]
    /// Background RGB per row of the coded height (each channel 0…110), added to the column's.
    private let rowRGB: [UInt8]
    /// The background converted once: luma at the coded size, chroma at half that in each direction.
    private let lumaPlane: [UInt8], cbPlane: [UInt8], crPlane: [UInt8]

    /// The scene for `frameCount` frames of `format`, its colours and layout from `seed`.
    init(format: H264StreamFormat, frameCount: Int, seed: UInt64) {
        self.format = format
        self.frameCount = max(frameCount, 1)
        var random = SplitMix64(seed: seed)
        func unit() -> Double { Double(random.next() >> 11) / Double(1 << 53) }

        // About an eighth of the short side, in whole macroblocks so it covers whole macroblock rows.
        let side = max(16, min(format.width, format.height) * 2 / 15 / 16 * 16)
        squareSide = min(side, format.width / 16 * 16, format.height / 16 * 16)
        let topRows = max(0, (format.height - Self.barHeight - squareSide) / 16)
        squareTop = Int(unit() * Double(topRows + 1)).clamped(to: 0...topRows) * 16
        let colour = Self.squareColours[Int(random.next() % UInt64(Self.squareColours.count))]
        squareColour = Colour(red: colour.0, green: colour.1, blue: colour.2)

        func wave(count: Int) -> [UInt8] {
            var table = [UInt8](repeating: 0, count: count * 3)
            for channel in 0..<3 {
                let cycles = 0.5 + 1.5 * unit(), phase = 2 * Double.pi * unit()
                let denominator = Double(max(count - 1, 1))
                for i in 0..<count {
                    let t = Double(i) / denominator
                    table[i * 3 + channel] = UInt8((55 + 55 * sin(2 * Double.pi * cycles * t + phase)).rounded())
                }
            }
            return table
        }
        columnRGB = wave(count: format.codedWidth)
        rowRGB = wave(count: format.codedHeight)
        (lumaPlane, cbPlane, crPlane) = Self.planes(columns: columnRGB, rows: rowRGB, width: format.codedWidth, height: format.codedHeight)
    }

    // MARK: Layout over time

    /// Where the square is in `frame`: bouncing between the left and right edges.
    func square(at frame: Int) -> PixelRect {
        let travel = max(0, (format.width - squareSide) / Self.step * Self.step)
        var x = 0
        if travel > 0 {
            let position = frame * Self.step % (2 * travel)
            x = position <= travel ? position : 2 * travel - position
        }
        return PixelRect(x: x, y: squareTop, width: squareSide, height: squareSide)
    }

    /// The progress bar in `frame`: full width on the last frame.
    func bar(at frame: Int) -> PixelRect {
        let width = format.width * (frame + 1) / frameCount / 2 * 2
        return PixelRect(x: 0, y: format.height - Self.barHeight, width: width, height: Self.barHeight)
    }

    /// Addresses (ascending) of the macroblocks whose samples differ between `frame − 1` and `frame`.
    func changedMacroblocks(at frame: Int) -> [Int] {
        var changed = Set<Int>()
        let before = square(at: frame - 1), after = square(at: frame)
        if before != after {
            // Same row, same size: only the strips it leaves and enters change.
            let left = min(before.x, after.x), shift = abs(before.x - after.x)
            insertMacroblocks(covering: PixelRect(x: left, y: after.y, width: shift, height: after.height), into: &changed)
            insertMacroblocks(covering: PixelRect(x: left + squareSide, y: after.y, width: shift, height: after.height), into: &changed)
        }
        let oldBar = bar(at: frame - 1), newBar = bar(at: frame)
        insertMacroblocks(covering: PixelRect(x: oldBar.width, y: newBar.y, width: newBar.width - oldBar.width, height: newBar.height), into: &changed)
        return changed.sorted()
    }

    // MARK: Samples

    /// Writes the 384 samples of macroblock `address` in `frame`: 256 luma, 64 Cb, 64 Cr, row by row.
    func fillMacroblock(_ address: Int, frame: Int, into samples: UnsafeMutableBufferPointer<UInt8>) {
        let mbX = address % format.widthInMacroblocks, mbY = address / format.widthInMacroblocks
        let x0 = mbX * 16, y0 = mbY * 16
        let overlays = [(square(at: frame), squareColour), (bar(at: frame), barColour)]
        let codedWidth = format.codedWidth, chromaWidth = codedWidth / 2
        lumaPlane.withUnsafeBufferPointer { luma in
            for row in 0..<16 {
                let start = (y0 + row) * codedWidth + x0
                for column in 0..<16 { samples[row * 16 + column] = luma[start + column] }
            }
        }
        cbPlane.withUnsafeBufferPointer { cb in
            crPlane.withUnsafeBufferPointer { cr in
                for row in 0..<8 {
                    let start = (y0 / 2 + row) * chromaWidth + x0 / 2
                    for column in 0..<8 {
                        samples[256 + row * 8 + column] = cb[start + column]
                        samples[320 + row * 8 + column] = cr[start + column]
                    }
                }
            }
        }
        // Overlays have even edges, so each chroma sample is covered exactly when its four luma samples are.
        for (rect, colour) in overlays where rect.width > 0 {
            let top = max(y0, rect.y), bottom = min(y0 + 16, rect.y + rect.height)
            let left = max(x0, rect.x), right = min(x0 + 16, rect.x + rect.width)
            guard top < bottom, left < right else { continue }
            let rows = top..<bottom, columns = left..<right
            for y in rows {
                for x in columns { samples[(y - y0) * 16 + x - x0] = colour.luma }
            }
            for y in stride(from: rows.lowerBound, to: rows.upperBound, by: 2) {
                for x in stride(from: columns.lowerBound, to: columns.upperBound, by: 2) {
                    let index = (y - y0) / 2 * 8 + (x - x0) / 2
                    samples[256 + index] = colour.cb
                    samples[320 + index] = colour.cr
                }
            }
        }
    }

    /// Writes row `y` of `frame` as PNG scanline data, for the thumbnail: filter type 1 (Sub), then the RGB
    /// bytes each minus the one a pixel to its left. A smooth gradient then deflates to a tenth of its size.
    func fillRGBRow(_ y: Int, frame: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        buffer[offset] = 1
        let square = square(at: frame), bar = bar(at: frame)
        let r = rowRGB[y * 3], g = rowRGB[y * 3 + 1], b = rowRGB[y * 3 + 2]
        for x in 0..<format.width {
            let o = offset + 1 + x * 3
            let colour: Colour? = square.contains(x, y) ? squareColour : bar.contains(x, y) ? barColour : nil
            if let colour {
                buffer[o] = colour.red
                buffer[o + 1] = colour.green
                buffer[o + 2] = colour.blue
            } else {
                buffer[o] = columnRGB[x * 3] + r
                buffer[o + 1] = columnRGB[x * 3 + 1] + g
                buffer[o + 2] = columnRGB[x * 3 + 2] + b
            }
        }
        // Right to left, so each byte is taken from its left neighbour before that one changes.
        for index in stride(from: offset + 3 * format.width, to: offset + 3, by: -1) {
            buffer[index] = buffer[index] &- buffer[index - 3]
        }
    }

    // MARK: Helpers

    /// Adds the addresses of the macroblocks that `rect` touches (nothing for an empty rect).
    private func insertMacroblocks(covering rect: PixelRect, into set: inout Set<Int>) {
        guard rect.width > 0, rect.height > 0 else { return }
        for mbY in (rect.y / 16)...((rect.y + rect.height - 1) / 16) {
            for mbX in (rect.x / 16)...((rect.x + rect.width - 1) / 16) {
                set.insert(mbY * format.widthInMacroblocks + mbX)
            }
        }
    }

    /// The background (column colour plus row colour) converted to Y′CbCr planes; chroma from each 2×2 block's mean.
    private static func planes(columns: [UInt8], rows: [UInt8], width: Int, height: Int) -> ([UInt8], [UInt8], [UInt8]) {
        // The conversion is linear, so a pixel's Y′CbCr is the column's part plus the row's part
        // (offsets counted once): two small tables instead of a conversion per pixel.
        func parts(_ table: [UInt8], count: Int) -> (luma: [Double], cb: [Double], cr: [Double]) {
            var luma = [Double](repeating: 0, count: count), cb = luma, cr = luma
            for i in 0..<count {
                let (y, u, v) = Colour.yCbCr(Double(table[i * 3]), Double(table[i * 3 + 1]), Double(table[i * 3 + 2]))
                (luma[i], cb[i], cr[i]) = (y - 16, u - 128, v - 128)
            }
            return (luma, cb, cr)
        }
        let column = parts(columns, count: width), row = parts(rows, count: height)
        var luma = [UInt8](repeating: 16, count: width * height)
        for y in 0..<height {
            for x in 0..<width { luma[y * width + x] = Colour.sample(16 + column.luma[x] + row.luma[y]) }
        }
        let chromaWidth = width / 2, chromaHeight = height / 2
        var cb = [UInt8](repeating: 128, count: chromaWidth * chromaHeight), cr = cb
        for y in 0..<chromaHeight {
            let rowCb = (row.cb[2 * y] + row.cb[2 * y + 1]) / 2, rowCr = (row.cr[2 * y] + row.cr[2 * y + 1]) / 2
            for x in 0..<chromaWidth {
                cb[y * chromaWidth + x] = Colour.sample(128 + rowCb + (column.cb[2 * x] + column.cb[2 * x + 1]) / 2)
                cr[y * chromaWidth + x] = Colour.sample(128 + rowCr + (column.cr[2 * x] + column.cr[2 * x + 1]) / 2)
            }
        }
        return (luma, cb, cr)
    }
}

extension Comparable {
    /// The value limited to `range`.
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}

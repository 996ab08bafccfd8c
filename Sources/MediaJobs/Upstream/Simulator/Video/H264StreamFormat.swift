/// The picture size and frame rate of an H.264 stream, and what follows from them (macroblocks, level).
struct H264StreamFormat: Equatable, Sendable {
    /// Largest width or height accepted; far above anything the simulator is asked for.
    static let maximumDimension = 4096
    /// Frame rates accepted.
    static let frameRates = 1...60

    /// Displayed width in pixels (even).
    let width: Int
    /// Displayed height in pixels (even).
    let height: Int
    /// Frames per second.
    let fps: Int

    /// A format, or nil unless width and height are even and in `2...maximumDimension` and `fps` in `frameRates`.
    ///
    /// Sizes need only be even: the coded picture is rounded up to whole macroblocks and the
    /// sequence parameter set crops the rest, in 4:2:0 crop units of two pixels.
    init?(width: Int, height: Int, fps: Int) {
        guard (2...Self.maximumDimension).contains(width), (2...Self.maximumDimension).contains(height),
            width.isMultiple(of: 2), height.isMultiple(of: 2), Self.frameRates.contains(fps)
        else { return nil }
        self.width = width
        self.height = height
        self.fps = fps
    }

    /// Coded width in 16×16 macroblocks.
    var widthInMacroblocks: Int { (width + 15) / 16 }
    /// Coded height in 16×16 macroblocks.
    var heightInMacroblocks: Int { (height + 15) / 16 }
    /// Macroblocks per picture.
    var macroblockCount: Int { widthInMacroblocks * heightInMacroblocks }
    /// Coded width in pixels (whole macroblocks).
    var codedWidth: Int { widthInMacroblocks * 16 }
    /// Coded height in pixels (whole macroblocks).
    var codedHeight: Int { heightInMacroblocks * 16 }

    /// `level_idc`: the lowest level from 3.0 up whose frame size and macroblock rate limits hold (Table A-1).
    ///
    /// Level 3.0 at least: the first frame is all raw (PCM) macroblocks, and lower levels' buffer
    /// sizes are too small for it even at small picture sizes.
    var levelIDC: UInt8 {
        // (level_idc, MaxFS in macroblocks, MaxMBPS macroblocks per second)
        let levels: [(UInt8, Int, Int)] = [
            (30, 1_620, 40_500), (31, 3_600, 108_000), (32, 5_120, 216_000), (40, 8_192, 245_760),
            (42, 8_704, 522_240), (50, 22_080, 589_824), (51, 36_864, 983_040), (52, 36_864, 2_073_600),
        ]
        let rate = macroblockCount * fps
        // Frame size limits also bound each side to √(8 · MaxFS) macroblocks.
        let longestSide = max(widthInMacroblocks, heightInMacroblocks)
        for (idc, maxFrame, maxRate) in levels where macroblockCount <= maxFrame && rate <= maxRate && longestSide * longestSide <= 8 * maxFrame {
            return idc
        }
        return 52
    }
}

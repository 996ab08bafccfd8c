import Testing

@testable import MediaJobs

/// The parameter sets and slices `H264Encoder` writes, read back field by field.
@Suite struct H264EncoderTests {
    static func format(_ width: Int, _ height: Int, fps: Int = 24) -> H264StreamFormat {
        guard let format = H264StreamFormat(width: width, height: height, fps: fps) else {
            preconditionFailure("test format \(width)x\(height)@\(fps) refused")
        }
        return format
    }

    /// Distinct samples per macroblock: its address in the first byte, then a ramp (16...).
    static func samples(_ address: Int, _ buffer: UnsafeMutableBufferPointer<UInt8>) {
        for index in buffer.indices { buffer[index] = UInt8(16 + (address * 7 + index) % 200) }
    }

    static func expectedSamples(_ address: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: H264Encoder.macroblockSampleCount)
        buffer.withUnsafeMutableBufferPointer { samples(address, $0) }
        return buffer
    }

    @Test func sequenceParameterSetDescribesSizeCroppingAndTiming() {
        let encoder = H264Encoder(format: Self.format(854, 480))
        let unit = encoder.sequenceParameterSet.bytes
        #expect(unit[0] == 0x67)
        let r = TestBitReader(nalUnit: unit)
        #expect(r.u(8) == 66)  // Baseline
        #expect(r.u(8) == 0xC0)  // constrained
        #expect(r.u(8) == 30)  // level 3.0
        #expect(r.ue() == 0)  // sps id
        #expect(r.ue() == 12)  // log2_max_frame_num_minus4
        #expect(r.ue() == 2)  // poc type
        #expect(r.ue() == 1)  // max_num_ref_frames
        #expect(!r.flag())  // gaps
        #expect(r.ue() == 53)  // 54 macroblocks wide (864)
        #expect(r.ue() == 29)  // 30 high (480)
        #expect(r.flag())  // frame_mbs_only
        #expect(r.flag())  // direct_8x8_inference
        #expect(r.flag())  // cropping
        #expect([r.ue(), r.ue(), r.ue(), r.ue()] == [0, 5, 0, 0])  // 864 − 2·5 = 854
        #expect(r.flag())  // VUI
        #expect(!r.flag())  // aspect ratio info
        #expect(!r.flag())  // overscan
        #expect(r.flag())  // video signal type
        #expect(r.u(3) == 5)
        #expect(!r.flag())  // limited range
        #expect(r.flag())
        #expect([r.u(8), r.u(8), r.u(8)] == [1, 1, 1])  // BT.709
        #expect(!r.flag())  // chroma loc
        #expect(r.flag())  // timing
        #expect(r.u(32) == 1)
        #expect(r.u(32) == 48)  // two ticks per frame at 24 fps
        #expect(r.flag())  // fixed frame rate
        #expect(!r.flag() && !r.flag() && !r.flag())  // no HRD, no pic_struct
        #expect(r.flag())  // bitstream restriction
        #expect(r.flag())
        #expect([r.ue(), r.ue(), r.ue(), r.ue(), r.ue(), r.ue()] == [0, 0, 16, 16, 0, 1])
        #expect(r.u(1) == 1)  // rbsp_stop_one_bit
        #expect(r.skipToByteBoundary() == 0)
        #expect(r.bitsLeft == 0)
    }

    @Test func wholeMacroblockSizesNeedNoCropping() {
        let r = TestBitReader(nalUnit: H264Encoder(format: Self.format(1280, 720)).sequenceParameterSet.bytes)
        _ = (r.u(8), r.u(8))
        #expect(r.u(8) == 31)
        _ = (r.ue(), r.ue(), r.ue(), r.ue(), r.flag())
        #expect(r.ue() == 79 && r.ue() == 44)
        _ = (r.flag(), r.flag())
        #expect(!r.flag())  // no cropping
    }

    @Test(arguments: [
        (176, 144, 24, UInt8(30)), (854, 480, 24, 30), (1280, 720, 24, 31), (720, 1280, 30, 31), (1920, 1080, 30, 40), (1920, 1080, 60, 42),
    ])
    func levelFitsFrameSizeAndRate(width: Int, height: Int, fps: Int, level: UInt8) {
        #expect(Self.format(width, height, fps: fps).levelIDC == level)
    }

    @Test(arguments: [(0, 16, 24), (17, 16, 24), (16, 15, 24), (16, 16, 0), (16, 16, 61), (4098, 16, 24)])
    func formatsTheEncoderCannotWriteAreRefused(width: Int, height: Int, fps: Int) {
        #expect(H264StreamFormat(width: width, height: height, fps: fps) == nil)
    }

    @Test func pictureParameterSetChoosesCAVLCAndSliceControlledDeblocking() {
        let r = TestBitReader(nalUnit: H264Encoder(format: Self.format(64, 48)).pictureParameterSet.bytes)
        #expect(r.ue() == 0 && r.ue() == 0)  // pps id, sps id
        #expect(!r.flag() && !r.flag())  // CAVLC, no bottom-field POC
        #expect(r.ue() == 0 && r.ue() == 0 && r.ue() == 0)  // slice groups, ref idx defaults
        #expect(!r.flag() && r.u(2) == 0)  // no weighted prediction
        #expect(r.se() == 0 && r.se() == 0 && r.se() == 0)
        #expect(r.flag())  // deblocking filter control present
        #expect(!r.flag() && !r.flag())
        #expect(r.u(1) == 1 && r.skipToByteBoundary() == 0 && r.bitsLeft == 0)
    }

    @Test func idrPictureIsEveryMacroblockRawInAddressOrder() {
        let format = Self.format(64, 48)  // 4 × 3 macroblocks
        let unit = H264Encoder(format: format).idrPicture(samples: Self.samples).bytes
        #expect(unit[0] == 0x65)
        let r = TestBitReader(nalUnit: unit)
        #expect(r.ue() == 0)  // first_mb_in_slice
        #expect(r.ue() == 7)  // I
        #expect(r.ue() == 0)  // pps
        #expect(r.u(16) == 0)  // frame_num
        #expect(r.ue() == 0)  // idr_pic_id
        #expect(!r.flag() && !r.flag())  // dec_ref_pic_marking
        #expect(r.se() == 0)  // slice_qp_delta
        #expect(r.ue() == 1)  // deblocking off
        for address in 0..<format.macroblockCount {
            #expect(r.ue() == 25)  // I_PCM
            #expect(r.skipToByteBoundary() == 0)
            #expect(r.alignedBytes(384) == Self.expectedSamples(address))
        }
        #expect(r.u(8) == 0x80)  // trailing bits
        #expect(r.bitsLeft == 0)
    }

    @Test func predictedPictureSkipsAllButTheChangedMacroblocks() {
        let format = Self.format(64, 48)  // 12 macroblocks
        let unit = H264Encoder(format: format).predictedPicture(frameNumber: 5, changed: [3, 4, 10], samples: Self.samples).bytes
        #expect(unit[0] == 0x61)  // reference slice, non-IDR
        let r = TestBitReader(nalUnit: unit)
        #expect(r.ue() == 0)
        #expect(r.ue() == 5)  // P
        #expect(r.ue() == 0)
        #expect(r.u(16) == 5)  // frame_num
        #expect(!r.flag() && !r.flag())  // no ref idx override, no list modification
        #expect(!r.flag())  // sliding window marking
        #expect(r.se() == 0)
        #expect(r.ue() == 1)
        for (skip, address) in [(UInt32(3), 3), (0, 4), (5, 10)] {
            #expect(r.ue() == skip)  // mb_skip_run
            #expect(r.ue() == 30)  // I_PCM in a P slice
            #expect(r.skipToByteBoundary() == 0)
            #expect(r.alignedBytes(384) == Self.expectedSamples(address))
        }
        #expect(r.ue() == 1)  // the last macroblock skipped
        #expect(r.u(1) == 1)
        #expect(r.skipToByteBoundary() == 0 && r.bitsLeft == 0)
    }

    @Test func anUnchangedPictureIsOneSkipRun() {
        let format = Self.format(64, 48)
        let r = TestBitReader(nalUnit: H264Encoder(format: format).predictedPicture(frameNumber: 1, changed: [], samples: Self.samples).bytes)
        _ = (r.ue(), r.ue(), r.ue(), r.u(16), r.flag(), r.flag(), r.flag(), r.se(), r.ue())
        #expect(r.ue() == 12)
        #expect(r.u(1) == 1 && r.skipToByteBoundary() == 0 && r.bitsLeft == 0)
    }
}

/// Writes a Constrained Baseline H.264 stream whose macroblocks are either raw samples or skipped.
///
/// The first picture is an IDR picture of `I_PCM` macroblocks (the samples as they are, no
/// prediction or transform); every later picture is a P picture where the macroblocks that
/// changed are `I_PCM` again and all others are `P_Skip`, copied from the previous picture.
/// With every motion vector zero, a skipped macroblock's predicted vector is zero too (§8.4.1.1),
/// so it copies exactly the co-located samples. No entropy coding is needed beyond exp-Golomb
/// header fields, and decoding is exact: what a decoder shows is what the caller supplied.
struct H264Encoder {
    /// Bytes of one macroblock's 4:2:0 samples: 256 luma, then 64 Cb and 64 Cr, each in raster order.
    static let macroblockSampleCount = 384
    /// `profile_idc` of the Baseline profile.
    static let profileIDC: UInt8 = 66
    /// `constraint_set0_flag` and `constraint_set1_flag`: Constrained Baseline, which every decoder plays.
    static let constraintFlags: UInt8 = 0xC0
    /// `log2_max_frame_num`: 16 bits of `frame_num`, more than any simulated video has frames.
    static let log2MaxFrameNumber = 16

    /// `mb_type` of `I_PCM` in an I slice (Table 7-11).
    private static let pcmInISlice: UInt32 = 25
    /// `mb_type` of `I_PCM` in a P slice: the intra types follow the five P types (Table 7-13).
    private static let pcmInPSlice: UInt32 = 5 + 25

    /// Fills the 384 samples of the macroblock at the given address (raster order, row by row).
    typealias MacroblockSamples = (_ address: Int, _ samples: UnsafeMutableBufferPointer<UInt8>) -> Void

    /// Picture size and frame rate.
    let format: H264StreamFormat

    /// The sequence parameter set: profile, level, picture size, cropping and timing.
    var sequenceParameterSet: NALUnit {
        var bits = BitWriter()
        bits.write(UInt32(Self.profileIDC), bits: 8)
        bits.write(UInt32(Self.constraintFlags), bits: 8)  // constraint flags and reserved_zero_2bits
        bits.write(UInt32(format.levelIDC), bits: 8)
        bits.write(ue: 0)  // seq_parameter_set_id
        bits.write(ue: UInt32(Self.log2MaxFrameNumber - 4))  // log2_max_frame_num_minus4
        // Picture order count type 2: output order is decoding order (no B pictures), nothing to signal per slice.
        bits.write(ue: 2)  // pic_order_cnt_type
        bits.write(ue: 1)  // max_num_ref_frames
        bits.write(flag: false)  // gaps_in_frame_num_value_allowed_flag
        bits.write(ue: UInt32(format.widthInMacroblocks - 1))  // pic_width_in_mbs_minus1
        bits.write(ue: UInt32(format.heightInMacroblocks - 1))  // pic_height_in_map_units_minus1
        bits.write(flag: true)  // frame_mbs_only_flag
        bits.write(flag: true)  // direct_8x8_inference_flag
        let cropRight = (format.codedWidth - format.width) / 2, cropBottom = (format.codedHeight - format.height) / 2
        bits.write(flag: cropRight > 0 || cropBottom > 0)  // frame_cropping_flag
        if cropRight > 0 || cropBottom > 0 {
            // Offsets count 4:2:0 crop units of two pixels (§7.4.2.1.1, CropUnitX/CropUnitY).
            bits.write(ue: 0)
            bits.write(ue: UInt32(cropRight))
            bits.write(ue: 0)
            bits.write(ue: UInt32(cropBottom))
        }
        bits.write(flag: true)  // vui_parameters_present_flag
        writeVideoUsability(&bits)
        bits.writeTrailingBits()
        return NALUnit(kind: .sequenceParameterSet, payload: bits.bytes)
    }

    /// The picture parameter set: CAVLC, one slice group, one reference, deblocking controllable per slice.
    var pictureParameterSet: NALUnit {
        var bits = BitWriter()
        bits.write(ue: 0)  // pic_parameter_set_id
        bits.write(ue: 0)  // seq_parameter_set_id
        bits.write(flag: false)  // entropy_coding_mode_flag: CAVLC
        bits.write(flag: false)  // bottom_field_pic_order_in_frame_present_flag
        bits.write(ue: 0)  // num_slice_groups_minus1
        bits.write(ue: 0)  // num_ref_idx_l0_default_active_minus1
        bits.write(ue: 0)  // num_ref_idx_l1_default_active_minus1
        bits.write(flag: false)  // weighted_pred_flag
        bits.write(0, bits: 2)  // weighted_bipred_idc
        bits.write(se: 0)  // pic_init_qp_minus26
        bits.write(se: 0)  // pic_init_qs_minus26
        bits.write(se: 0)  // chroma_qp_index_offset
        bits.write(flag: true)  // deblocking_filter_control_present_flag: slices turn the filter off
        bits.write(flag: false)  // constrained_intra_pred_flag
        bits.write(flag: false)  // redundant_pic_cnt_present_flag
        bits.writeTrailingBits()
        return NALUnit(kind: .pictureParameterSet, payload: bits.bytes)
    }

    /// The first picture: one IDR slice of `I_PCM` macroblocks, each filled by `samples`.
    func idrPicture(samples: MacroblockSamples) -> NALUnit {
        var bits = BitWriter(capacity: format.macroblockCount * (Self.macroblockSampleCount + 2) + 16)
        writeSliceHeader(&bits, idr: true, frameNumber: 0)
        withMacroblockBuffer { buffer in
            for address in 0..<format.macroblockCount {
                writePCMMacroblock(&bits, mbType: Self.pcmInISlice, address: address, buffer: buffer, samples: samples)
            }
        }
        bits.writeTrailingBits()
        return NALUnit(kind: .idrSlice, payload: bits.bytes)
    }

    /// A P picture that codes the macroblocks at `changed` (addresses, ascending) as `I_PCM` and skips the rest.
    ///
    /// `frameNumber` counts pictures since the IDR picture (it is `frame_num`, modulo 2¹⁶).
    func predictedPicture(frameNumber: Int, changed: [Int], samples: MacroblockSamples) -> NALUnit {
        var bits = BitWriter(capacity: changed.count * (Self.macroblockSampleCount + 4) + 16)
        writeSliceHeader(&bits, idr: false, frameNumber: frameNumber)
        var next = 0  // the first macroblock not yet coded or skipped
        withMacroblockBuffer { buffer in
            for address in changed {
                precondition(address >= next && address < format.macroblockCount, "changed macroblocks must be ascending and inside the picture")
                bits.write(ue: UInt32(address - next))  // mb_skip_run
                writePCMMacroblock(&bits, mbType: Self.pcmInPSlice, address: address, buffer: buffer, samples: samples)
                next = address + 1
            }
        }
        // A final run skips to the end of the picture; nothing follows it but the trailing bits.
        if next < format.macroblockCount { bits.write(ue: UInt32(format.macroblockCount - next)) }
        bits.writeTrailingBits()
        return NALUnit(kind: .slice, payload: bits.bytes)
    }

    // MARK: Syntax

    /// `slice_header()` of the only slice of a picture (§7.3.3).
    private func writeSliceHeader(_ bits: inout BitWriter, idr: Bool, frameNumber: Int) {
        bits.write(ue: 0)  // first_mb_in_slice
        bits.write(ue: idr ? 7 : 5)  // slice_type: I or P, the same for the whole picture
        bits.write(ue: 0)  // pic_parameter_set_id
        bits.write(UInt32(frameNumber % (1 << Self.log2MaxFrameNumber)), bits: Self.log2MaxFrameNumber)  // frame_num
        if idr {
            bits.write(ue: 0)  // idr_pic_id
        } else {
            bits.write(flag: false)  // num_ref_idx_active_override_flag
            bits.write(flag: false)  // ref_pic_list_modification_flag_l0
        }
        // dec_ref_pic_marking(): every picture is a reference; the sliding window keeps the latest one.
        if idr {
            bits.write(flag: false)  // no_output_of_prior_pics_flag
            bits.write(flag: false)  // long_term_reference_flag
        } else {
            bits.write(flag: false)  // adaptive_ref_pic_marking_mode_flag
        }
        bits.write(se: 0)  // slice_qp_delta
        // The deblocking filter would blur the raw macroblocks' edges against skipped neighbours.
        bits.write(ue: 1)  // disable_deblocking_filter_idc
    }

    /// `macroblock_layer()` of an `I_PCM` macroblock: its type, zero bits to the byte boundary, the raw samples.
    private func writePCMMacroblock(
        _ bits: inout BitWriter, mbType: UInt32, address: Int, buffer: UnsafeMutableBufferPointer<UInt8>, samples: MacroblockSamples
    ) {
        bits.write(ue: mbType)
        bits.alignWithZeros()  // pcm_alignment_zero_bit
        samples(address, buffer)
        bits.append(alignedBytes: buffer)
    }

    /// `vui_parameters()` (Annex E): BT.709 colours, the frame rate, and no reordering.
    private func writeVideoUsability(_ bits: inout BitWriter) {
        bits.write(flag: false)  // aspect_ratio_info_present_flag: square pixels by default
        bits.write(flag: false)  // overscan_info_present_flag
        bits.write(flag: true)  // video_signal_type_present_flag
        bits.write(5, bits: 3)  // video_format: unspecified
        bits.write(flag: false)  // video_full_range_flag: 16-235 luma, as `VideoScene` writes
        bits.write(flag: true)  // colour_description_present_flag
        bits.write(1, bits: 8)  // colour_primaries: BT.709
        bits.write(1, bits: 8)  // transfer_characteristics: BT.709
        bits.write(1, bits: 8)  // matrix_coefficients: BT.709, as `VideoScene` converts
        bits.write(flag: false)  // chroma_loc_info_present_flag
        bits.write(flag: true)  // timing_info_present_flag
        bits.write(1, bits: 32)  // num_units_in_tick
        bits.write(UInt32(2 * format.fps), bits: 32)  // time_scale: two ticks per frame (one per field)
        bits.write(flag: true)  // fixed_frame_rate_flag
        bits.write(flag: false)  // nal_hrd_parameters_present_flag
        bits.write(flag: false)  // vcl_hrd_parameters_present_flag
        bits.write(flag: false)  // pic_struct_present_flag
        bits.write(flag: true)  // bitstream_restriction_flag
        bits.write(flag: true)  // motion_vectors_over_pic_boundaries_flag
        bits.write(ue: 0)  // max_bytes_per_pic_denom
        bits.write(ue: 0)  // max_bits_per_mb_denom
        bits.write(ue: 16)  // log2_max_mv_length_horizontal
        bits.write(ue: 16)  // log2_max_mv_length_vertical
        // No reordering and a one-picture buffer: a decoder can show each picture as soon as it is decoded.
        bits.write(ue: 0)  // max_num_reorder_frames
        bits.write(ue: 1)  // max_dec_frame_buffering
    }

    /// Runs `body` with a scratch buffer for one macroblock's samples.
    private func withMacroblockBuffer(_ body: (UnsafeMutableBufferPointer<UInt8>) -> Void) {
        var buffer = [UInt8](repeating: 0, count: Self.macroblockSampleCount)
        buffer.withUnsafeMutableBufferPointer { body($0) }
    }
}

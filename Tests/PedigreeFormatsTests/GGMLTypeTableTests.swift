import CPedigreeKernels
import PedigreeFormats
import XCTest

/// The ggml type table against formats.md section 3.5 (ggml's `type_traits`), row by row.
/// (XCTest, so that both test frameworks of the package report real work.)
final class GGMLTypeTableTests: XCTestCase {
    /// id, name, elements per block, bytes per block, as formats.md lists them (0, 0 for removed ids).
    static let expected: [(UInt32, String, Int, Int)] = [
        (0, "F32", 1, 4), (1, "F16", 1, 2), (2, "Q4_0", 32, 18), (3, "Q4_1", 32, 20), (4, "Q4_2", 0, 0), (5, "Q4_3", 0, 0),
        (6, "Q5_0", 32, 22), (7, "Q5_1", 32, 24), (8, "Q8_0", 32, 34), (9, "Q8_1", 32, 36), (10, "Q2_K", 256, 84),
        (11, "Q3_K", 256, 110), (12, "Q4_K", 256, 144), (13, "Q5_K", 256, 176), (14, "Q6_K", 256, 210), (15, "Q8_K", 256, 292),
        (16, "IQ2_XXS", 256, 66), (17, "IQ2_XS", 256, 74), (18, "IQ3_XXS", 256, 98), (19, "IQ1_S", 256, 50),
        (20, "IQ4_NL", 32, 18), (21, "IQ3_S", 256, 110), (22, "IQ2_S", 256, 82), (23, "IQ4_XS", 256, 136),
        (24, "I8", 1, 1), (25, "I16", 1, 2), (26, "I32", 1, 4), (27, "I64", 1, 8), (28, "F64", 1, 8), (29, "IQ1_M", 256, 56),
        (30, "BF16", 1, 2), (31, "Q4_0_4_4", 0, 0), (32, "Q4_0_4_8", 0, 0), (33, "Q4_0_8_8", 0, 0), (34, "TQ1_0", 256, 54),
        (35, "TQ2_0", 256, 66), (36, "IQ4_NL_4_4", 0, 0), (37, "IQ4_NL_4_8", 0, 0), (38, "IQ4_NL_8_8", 0, 0),
        (39, "MXFP4", 32, 17), (40, "NVFP4", 64, 36), (41, "Q1_0", 128, 18), (42, "Q2_0", 64, 18),
    ]

    func testEveryRowMatchesTheReference() {
        XCTAssertEqual(GGMLType.table.count, Self.expected.count)
        for (id, name, elements, bytes) in Self.expected {
            guard let row = GGMLType.withID(id) else { return XCTFail("no row for id \(id)") }
            XCTAssertEqual(row.id, id)
            XCTAssertEqual(row.name, name, "id \(id)")
            XCTAssertEqual(row.blockElements, elements, name)
            XCTAssertEqual(row.bytesPerBlock, bytes, name)
            XCTAssertEqual(row.isDefined, elements > 0, name)
        }
        XCTAssertNil(GGMLType.withID(43), "ids from GGML_TYPE_COUNT on are not in the table")
    }

    func testIntermediateTypesAreMarked() {
        XCTAssertEqual(GGMLType.table.filter(\.isIntermediate).map(\.name), ["Q8_1", "Q8_K"])
    }

    func testByteCountsRefusePartialBlocksAndOverflow() {
        let q4k = GGMLType.named("Q4_K")!
        XCTAssertEqual(q4k.byteCount(elements: 512), 288)
        XCTAssertNil(q4k.byteCount(elements: 100))
        XCTAssertNil(GGMLType.named("F32")!.byteCount(elements: Int.max / 2))
        XCTAssertNil(GGMLType.withID(4)!.byteCount(elements: 32), "removed ids cannot be sized")
        XCTAssertNil(GGMLType.named("Q4_2"), "named(_:) finds defined types only")
    }

    func testEveryDefinedTypeDecodes() {
        for row in GGMLType.table where row.isDefined {
            XCTAssertTrue(TensorDecoder.canDecode(.ggml(row)), "\(row.name) has no decoder")
        }
    }
}

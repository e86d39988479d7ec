import Testing
@testable import PedigreeFormats

@Suite struct JSONParserTests {
    func parse(_ text: String, maxDepth: Int = 64) -> Result<JSONValue, JSONParseError> {
        do throws(JSONParseError) { return .success(try JSONParser.parse(text, maxDepth: maxDepth)) } catch { return .failure(error) }
    }

    func failure(_ text: String, maxDepth: Int = 64) -> JSONParseError? {
        if case .failure(let e) = parse(text, maxDepth: maxDepth) { return e }
        return nil
    }

    @Test func scalars() throws {
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse("true") == .bool(true))
        #expect(try JSONParser.parse(" false ") == .bool(false))
        #expect(try JSONParser.parse("\"hi\"") == .string("hi"))
        #expect(try JSONParser.parse("-1.5e3") == .number(JSONNumber(text: "-1.5e3")))
    }

    @Test func numbersKeepTheirText() throws {
        let v = try JSONParser.parse("[18446744073709551615, 0, -0, 1E+2, 0.25]")
        #expect(v.arrayValue?.map { $0.numberValue?.text } == ["18446744073709551615", "0", "-0", "1E+2", "0.25"])
        #expect(v.arrayValue?[0].numberValue?.uint64 == UInt64.max)
    }

    @Test func objectsKeepOrderAndDuplicates() throws {
        let v = try JSONParser.parse(#"{"b":1,"a":2,"b":3}"#)
        let o = try #require(v.objectValue)
        #expect(o.keys == ["b", "a", "b"])
        #expect(o.firstDuplicateKey == "b")
        #expect(o["b"]?.intValue == 3)
    }

    @Test func escapes() throws {
        let v = try JSONParser.parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#)
        #expect(v.stringValue == "a\"b\\c/d\u{08}\u{0C}\n\r\té😀")
        #expect(try JSONParser.parse("\"é漢😀\"").stringValue == "é漢😀")
    }

    @Test func rejectsBadNumbers() {
        for text in ["01", "+1", ".5", "1.", "1e", "-", "NaN", "Infinity", "0x10", "1.e3"] {
            #expect(failure(text) != nil, "\(text) should be refused")
        }
        #expect(failure("01")?.reason == "leading zero in number")
    }

    @Test func rejectsBadStrings() {
        #expect(failure("\"a\u{01}b\"")?.reason == "control character in string")
        #expect(failure(#""\x""#)?.reason == "invalid escape")
        #expect(failure(#""\ud800""#)?.reason == "unpaired surrogate in \\u escape")
        #expect(failure(#""\udc00x""#)?.reason == "unpaired surrogate in \\u escape")
        #expect(failure(#""\u12G4""#)?.reason == "invalid \\u escape")
        #expect(failure("\"abc")?.reason == "unexpected end of input")
    }

    @Test func rejectsInvalidUTF8() throws {
        for bad: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]] {
            do {
                _ = try JSONParser.parse(bad)
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.reason == "invalid UTF-8 in string")
                #expect(error.offset == 1)
            }
        }
        let offset = [UInt8]([0x41, 0xE2, 0x82, 0xAC, 0xFE]).withUnsafeBytes { JSONParser.firstInvalidUTF8Offset($0) }
        #expect(offset == 4)
    }

    @Test func structuralErrorsCarryOffsets() {
        #expect(failure(#"{"a":1"#) == JSONParseError(reason: "unexpected end of input", offset: 6))
        #expect(failure(#"{"a" 1}"#) == JSONParseError(reason: "expected ':'", offset: 5))
        #expect(failure(#"{"a":1,}"#) == JSONParseError(reason: "expected a string key", offset: 7))
        #expect(failure("[1,]") == JSONParseError(reason: "unexpected character", offset: 3))
        #expect(failure("[1 2]") == JSONParseError(reason: "expected ',' or ']'", offset: 3))
        #expect(failure("") == JSONParseError(reason: "unexpected end of input", offset: 0))
        #expect(failure("tru") == JSONParseError(reason: "unexpected end of input", offset: 3))
        #expect(failure("nul1") == JSONParseError(reason: "invalid literal", offset: 0))
    }

    @Test func whitespaceAndTrailingCharacters() throws {
        #expect(try JSONParser.parse(" \t\r\n{} \t\r\n") == .object(JSONObject()))
        #expect(failure("{}x") == JSONParseError(reason: "trailing characters", offset: 2))
        #expect(failure("{}\u{0}") == JSONParseError(reason: "trailing characters", offset: 2))
        #expect(failure("\u{0}{}") == JSONParseError(reason: "unexpected character", offset: 0))
        #expect(failure("{} {}") == JSONParseError(reason: "trailing characters", offset: 3))
        #expect(failure("\u{0C}{}") != nil) // form feed is not JSON whitespace
    }

    @Test func depthBound() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(failure(deep) == JSONParseError(reason: "nesting deeper than 64", offset: 64))
        #expect(failure(#"{"a":{"b":[]}}"#, maxDepth: 2)?.reason == "nesting deeper than 2")
        // A hostile 100 000-deep document fails fast instead of overflowing the stack.
        let hostile = String(repeating: "[", count: 100_000)
        #expect(failure(hostile)?.offset == 64)
    }

    @Test func writerRoundTrips() throws {
        let text = "quote\" back\\ nl\n tab\t nul\u{0} bell\u{07} é 😀 /"
        let quoted = JSONWriter.quoted(text)
        #expect(quoted == #""quote\" back\\ nl\n tab\t nul\u0000 bell\u0007 é 😀 /""#)
        #expect(try JSONParser.parse(quoted).stringValue == text)
        let doc = #"{"k":[1,-2.5e3,true,null,"s"],"k":{}}"#
        #expect(JSONWriter.render(try JSONParser.parse(doc)) == doc)
    }

    @Test func parsesAOneMegabyteHeaderQuickly() throws {
        var text = "{"
        var i = 0
        while text.utf8.count < 1_000_000 {
            if i > 0 { text += "," }
            text += #""model.layers.\#(i).mlp.weight":{"dtype":"F16","shape":[4096,11008],"data_offsets":[\#(i * 90_177_536),\#((i + 1) * 90_177_536)]}"#
            i += 1
        }
        text += "}"
        let clock = ContinuousClock()
        var parsed: JSONValue = .null
        let elapsed = try clock.measure { parsed = try JSONParser.parse(text) }
        #expect(parsed.objectValue?.members.count == i)
        #expect(elapsed < .seconds(2), "took \(elapsed)")
    }
}

import Testing

@testable import MediaJobs

/// ``S3XML`` on the shapes S3 answers with: errors, list pages, empty elements, entities.
@Suite struct S3XMLTests {
    @Test func errorBody() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match &amp; so on</Message></Error>
            """
        #expect(S3XML.value("Code", in: xml) == "SignatureDoesNotMatch")
        #expect(S3XML.value("Message", in: xml) == "The request signature we calculated does not match & so on")
        #expect(S3XML.value("RequestId", in: xml) == nil)
    }

    @Test func listPage() {
        let xml = """
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>\
            <Contents><Key>a%20b</Key><Size>3</Size></Contents><Contents><Key>c</Key><Size>4</Size><Owner/></Contents>\
            <NextContinuationToken>t&#43;1</NextContinuationToken></ListBucketResult>
            """
        #expect(S3XML.values("Key", in: xml) == ["a%20b", "c"])
        #expect(S3XML.blocks("Contents", in: xml).count == 2)
        #expect(S3XML.values("Owner", in: xml) == [""])
        #expect(S3XML.value("KeyCount", in: xml) == "2")
        #expect(S3XML.value("NextContinuationToken", in: xml) == "t+1")
    }

    @Test func entitiesRoundTrip() {
        let text = "a&b<c>\"d'e\u{1}"
        #expect(S3XML.escape(text) == "a&amp;b&lt;c&gt;&quot;d&apos;e&#1;")
        #expect(S3XML.decodeEntities(S3XML.escape(text)) == text)
        #expect(S3XML.decodeEntities("dangling & no semicolon") == "dangling & no semicolon")
        #expect(S3XML.decodeEntities("&unknown; &#x1F3B5;") == "&unknown; 🎵")
    }
}

import Crypto
import Foundation
import Testing

@testable import MediaJobs

/// ``SigV4Signer`` against the worked examples of AWS's S3 API reference ("Authenticating Requests:
/// Using the Authorization Header" and "…: Using Query Parameters"): same inputs, same signatures.
/// botocore agrees on a few hundred generated requests too (Tests/live/test_s3_signing.py).
@Suite struct SigV4SignerTests {
    static let credentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
    /// 2013-05-24T00:00:00Z, the examples' moment.
    static let exampleDate = Date(timeIntervalSince1970: 1_369_353_600)
    static let host = "examplebucket.s3.amazonaws.com"

    static func header(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name == name }?.value
    }

    @Test func getObjectWithRange() {
        let request = SigV4Request(method: "GET", host: Self.host, path: "/test.txt", headers: [("Range", "bytes=0-9")])
        let headers = Self.signer.signedHeaders(for: request, payloadHash: SigV4Signer.emptyPayloadHash, date: Self.exampleDate)
        #expect(Self.header("x-amz-date", in: headers) == "20130524T000000Z")
        #expect(
            Self.header("authorization", in: headers)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test func putObjectWithPayloadHash() {
        let body = Data("Welcome to Amazon S3.".utf8)
        let payloadHash = SigV4Signer.hex(SHA256.hash(data: body))
        #expect(payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = SigV4Request(
            method: "PUT", host: Self.host, path: "/test$file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")])
        let headers = Self.signer.signedHeaders(for: request, payloadHash: payloadHash, date: Self.exampleDate)
        #expect(
            Self.header("authorization", in: headers)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        )
    }

    @Test func getBucketLifecycleWithValuelessParameter() {
        let request = SigV4Request(method: "GET", host: Self.host, path: "/", query: [("lifecycle", "")])
        let headers = Self.signer.signedHeaders(for: request, payloadHash: SigV4Signer.emptyPayloadHash, date: Self.exampleDate)
        #expect(Self.header("authorization", in: headers)?.hasSuffix("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543") == true)
    }

    @Test func listObjectsWithSortedQuery() {
        let request = SigV4Request(method: "GET", host: Self.host, path: "/", query: [("prefix", "J"), ("max-keys", "2")])
        #expect(request.canonicalQuery == "max-keys=2&prefix=J")
        let headers = Self.signer.signedHeaders(for: request, payloadHash: SigV4Signer.emptyPayloadHash, date: Self.exampleDate)
        #expect(Self.header("authorization", in: headers)?.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true)
    }

    @Test func presignedGet() {
        let request = SigV4Request(method: "GET", host: Self.host, path: "/test.txt")
        let url = Self.signer.presignedURL(for: request, scheme: "https", expires: 86_400, date: Self.exampleDate)
        #expect(
            url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
    }

    /// Temporary credentials: the token is signed (a header, or a query parameter when presigned)
    /// and so changes the signature.
    @Test func sessionTokenIsSigned() {
        let withToken = SigV4Signer(
            credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: "token/+="),
            region: "us-east-1")
        let request = SigV4Request(method: "GET", host: Self.host, path: "/test.txt")
        let headers = withToken.signedHeaders(for: request, payloadHash: SigV4Signer.unsignedPayload, date: Self.exampleDate)
        #expect(Self.header("x-amz-security-token", in: headers) == "token/+=")
        #expect(Self.header("authorization", in: headers)?.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,") == true)
        let url = withToken.presignedURL(for: request, scheme: "https", expires: 60, date: Self.exampleDate)
        #expect(url.contains("&X-Amz-Security-Token=token%2F%2B%3D&"))
        #expect(!url.contains("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
    }

    @Test func keysAreEncodedOnce() {
        let request = SigV4Request(method: "GET", host: "h", path: "/b/a b+c~d=é/ü.mp3", query: [("k y", "v/w")])
        #expect(request.encodedPath == "/b/a%20b%2Bc~d%3D%C3%A9/%C3%BC.mp3")
        #expect(request.canonicalQuery == "k%20y=v%2Fw")
        #expect(AWSPercentEncoding.decode("a%20b+c%C3%A9") == "a b cé")
        #expect(AWSPercentEncoding.decode("bad%2") == nil)
    }

    /// Dates across leap days and centuries, as the credential scope needs them.
    @Test(arguments: [
        (Int64(0), "19700101T000000Z"), (951_782_400, "20000229T000000Z"), (1_709_251_199, "20240229T235959Z"),
        (4_102_444_800, "21000101T000000Z"), (1_369_353_600, "20130524T000000Z"),
    ])
    func amzDates(seconds: Int64, expected: String) {
        let date = AmzDate(epochSeconds: seconds)
        #expect(date.timestamp == expected)
        #expect(date.day == String(expected.prefix(8)))
    }

    @Test func credentialsNeverPrintTheSecret() {
        let text = "\(Self.credentials) \(String(reflecting: Self.credentials))"
        #expect(!text.contains("EXAMPLEKEY"))
        #expect(S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "a"]) == nil)
        #expect(S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_SESSION_TOKEN": ""])?.sessionToken == nil)
    }
}

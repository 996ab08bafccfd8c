import Foundation
import Testing

@testable import MediaJobs

/// `--storage-url s3://…` and its companions: parsing, the checks made before start, endpoints.
@Suite struct S3StorageSettingsTests {
    @Test func storageURLsAreParsed() {
        let settings = S3StorageSettings(url: "s3://my-bucket/a//b/")
        #expect(settings?.bucket == "my-bucket")
        #expect(settings?.prefix == "a/b")
        #expect(settings?.storageURL == "s3://my-bucket/a/b")
        #expect(S3StorageSettings(url: "s3://my-bucket")?.prefix == "")
        #expect(S3StorageSettings(url: "s3://My_Bucket/x") == nil)
        #expect(S3StorageSettings(url: "https://my-bucket/x") == nil)
        #expect(S3StorageSettings(url: "s3://ab") == nil)
    }

    /// Missing credentials, a bad endpoint or presign time stop the start with a message that
    /// names the bucket and never a secret.
    @Test func validationRefusesWhatCannotWork() throws {
        var configuration = ServiceConfiguration()
        var s3 = try #require(S3StorageSettings(url: "s3://media-bucket/p"))
        configuration.s3Storage = s3
        #expect(throws: StartupError.self) { try configuration.validate() }
        do {
            try configuration.validate()
        } catch {
            #expect("\(error)".contains("s3://media-bucket/p") && "\(error)".contains("AWS_ACCESS_KEY_ID"), "\(error)")
        }
        s3.credentials = S3Credentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "top-secret-value")
        configuration.s3Storage = s3
        try configuration.validate()
        #expect(try configuration.s3Endpoint()?.host == "media-bucket.s3.us-east-1.amazonaws.com")

        s3.endpoint = "ftp://127.0.0.1:9000"
        configuration.s3Storage = s3
        #expect(throws: StartupError.self) { try configuration.validate() }
        s3.endpoint = "http://127.0.0.1:9000"
        s3.presignTTL = .seconds(8 * 86_400)
        configuration.s3Storage = s3
        #expect(throws: StartupError.self) { try configuration.validate() }
    }

    @Test func endpointsAndRedirectLifetimes() throws {
        let local = try S3Endpoint(bucket: "media", region: "eu-west-3", endpoint: "http://127.0.0.1:9000/")
        #expect(local.host == "127.0.0.1:9000" && local.pathStyle && local.path(key: "a/b") == "/media/a/b")
        let standard = try S3Endpoint(bucket: "media", region: "eu-west-3", endpoint: "https://minio.test:443")
        #expect(standard.host == "minio.test")
        let aws = try S3Endpoint(bucket: "media", region: "eu-west-3", endpoint: nil)
        #expect(aws.host == "media.s3.eu-west-3.amazonaws.com" && !aws.pathStyle && aws.path(key: "a") == "/a")
        #expect(throws: S3Error.self) { try S3Endpoint(bucket: "media", region: "us-east-1", endpoint: "http://h/base") }

        var settings = try #require(S3StorageSettings(url: "s3://media"))
        #expect(settings.redirectMaxAge == 810)
        settings.presignTTL = .seconds(40)
        #expect(settings.redirectMaxAge == 10)
    }
}

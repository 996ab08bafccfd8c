import HTTPTypes

/// Which bytes of which file a `/files` response sends as its body, handed to ``FileRegionWriter``.
///
/// Hummingbird's response bodies are `ByteBuffer`s, so a route cannot return a file region
/// itself; it answers with the full head, this marker as an extra header and an empty body, and
/// the writer turns that into a `sendfile(2)` write. The marker is only ever read from
/// responses, so a client that sends it in a request changes nothing, and the writer removes it
/// before the head is encoded, so no client ever sees it.
struct SendfileMarker: Equatable {
    static let headerName = "x-mediajobs-sendfile"
    static let fieldName = HTTPField.Name(headerName)!

    /// Absolute path of the file.
    var path: String
    /// The first and last byte to send, inclusive (as in `Content-Range`).
    var first: Int64
    var last: Int64

    init(path: String, first: Int64, last: Int64) {
        self.path = path
        self.first = first
        self.last = last
    }

    /// `<first>-<last> <path>`: the path goes last, so it may contain spaces.
    var headerValue: String { "\(first)-\(last) \(path)" }

    /// Reads a marker's header value; nil for anything malformed.
    init?(headerValue: String) {
        guard let space = headerValue.firstIndex(of: " ") else { return nil }
        let bounds = headerValue[..<space].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first >= 0, last >= first else { return nil }
        let path = headerValue[headerValue.index(after: space)...]
        guard path.hasPrefix("/") else { return nil }
        self.init(path: String(path), first: first, last: last)
    }
}

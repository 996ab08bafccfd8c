/// Reads the few flat XML documents S3 answers with (errors, list pages, multipart and delete
/// results): the text of named elements, in document order.
///
/// Enough for these documents, whose elements of interest hold text or other elements but never
/// themselves; no XML library is needed (and none is linked) for that.
enum S3XML {
    /// The text inside every `<name>…</name>`, entities decoded.
    static func values(_ name: String, in xml: String) -> [String] {
        blocks(name, in: xml).map(decodeEntities)
    }

    /// The first ``values(_:in:)``, or nil.
    static func value(_ name: String, in xml: String) -> String? {
        blocks(name, in: xml).first.map(decodeEntities)
    }

    /// The raw inner XML of every `<name>…</name>` (attributes on the opening tag allowed); `<name/>` counts as empty.
    static func blocks(_ name: String, in xml: String) -> [String] {
        var found: [String] = []
        var rest = xml[...]
        let open = "<\(name)"
        let close = "</\(name)>"
        while let start = rest.range(of: open) {
            let afterName = rest[start.upperBound...]
            guard let next = afterName.first else { break }
            // `<Key` must not match `<KeyCount`.
            guard next == ">" || next == " " || next == "/" || next == "\t" || next == "\n" else {
                rest = afterName
                continue
            }
            guard let tagEnd = afterName.firstIndex(of: ">") else { break }
            if tagEnd > afterName.startIndex, afterName[afterName.index(before: tagEnd)] == "/" {
                found.append("")
                rest = afterName[afterName.index(after: tagEnd)...]
                continue
            }
            let content = afterName[afterName.index(after: tagEnd)...]
            guard let end = content.range(of: close) else { break }
            found.append(String(content[..<end.lowerBound]))
            rest = content[end.upperBound...]
        }
        return found
    }

    /// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric references.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        var rest = text[...]
        while let ampersand = rest.firstIndex(of: "&") {
            output += rest[..<ampersand]
            guard let semicolon = rest[ampersand...].firstIndex(of: ";") else {
                output += rest[ampersand...]
                return output
            }
            let entity = rest[rest.index(after: ampersand)..<semicolon]
            switch entity {
            case "amp": output += "&"
            case "lt": output += "<"
            case "gt": output += ">"
            case "quot": output += "\""
            case "apos": output += "'"
            default:
                let scalar: Unicode.Scalar? =
                    entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst(1)).flatMap(Unicode.Scalar.init) : nil
                if let scalar { output.unicodeScalars.append(scalar) } else { output += rest[ampersand...semicolon] }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return output + rest
    }

    /// Text made safe inside an element (object keys in a `Delete` request).
    static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            default:
                // Control characters are not allowed raw in XML 1.0 text.
                if character.value < 0x20, character != "\t", character != "\n", character != "\r" {
                    output += "&#\(character.value);"
                } else {
                    output.unicodeScalars.append(character)
                }
            }
        }
        return output
    }
}

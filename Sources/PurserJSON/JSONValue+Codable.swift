import Foundation

/// ``JSONValueDecoder`` and ``JSONValueEncoder`` pass a `JSONValue` through untouched. These
/// conformances serve other coders (e.g. Foundation's `JSONEncoder`), where numbers go through
/// `Decimal`, the closest exact type those coders offer.
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: AnyCodingKey.self) {
            var object = JSONObject()
            for key in container.allKeys { object[key.stringValue] = try container.decode(JSONValue.self, forKey: key) }
            self = .object(object)
        } else if var container = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !container.isAtEnd { elements.append(try container.decode(JSONValue.self)) }
            self = .array(elements)
        } else {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let bool = try? container.decode(Bool.self) {
                self = .bool(bool)
            } else if let string = try? container.decode(String.self) {
                self = .string(string)
            } else {
                self = .number(try container.decode(Decimal.self).description)
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let bool):
            var container = encoder.singleValueContainer()
            try container.encode(bool)
        case .string(let string):
            var container = encoder.singleValueContainer()
            try container.encode(string)
        case .number(let literal):
            var container = encoder.singleValueContainer()
            guard let decimal = Decimal(string: literal, locale: Locale(identifier: "en_US_POSIX")) else {
                throw EncodingError.invalidValue(
                    literal,
                    .init(codingPath: encoder.codingPath, debugDescription: "not a number")
                )
            }
            try container.encode(decimal)
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .object(let object):
            var container = encoder.container(keyedBy: AnyCodingKey.self)
            for member in object { try container.encode(member.value, forKey: AnyCodingKey(stringValue: member.key)) }
        }
    }
}

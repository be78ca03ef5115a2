/// A Calypso customer: the owner of purses and the unit that can be blocked.
public struct CalypsoCustomer: Codable, Hashable, Sendable {
    public var id: String
    public var email: String?
    public var description: String?
    public var externalId: String?
    public var blocked: Bool

    public init(id: String, email: String? = nil, description: String? = nil, externalId: String? = nil, blocked: Bool)
    {
        self.id = id
        self.email = email
        self.description = description
        self.externalId = externalId
        self.blocked = blocked
    }

    enum CodingKeys: String, CodingKey { case id, email, description, externalId, blocked }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        email = try container.decodeIfPresent(String.self, forKey: .email)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        externalId = try container.decodeIfPresent(String.self, forKey: .externalId)
        // Calypso may omit the flag for a customer that was never blocked.
        blocked = try container.decodeIfPresent(Bool.self, forKey: .blocked) ?? false
    }
}

/// The editable fields of a customer, sent by `customer/create` and `customer/update`.
/// A `nil` field is left out of the request.
public struct CalypsoCustomerDetails: Codable, Hashable, Sendable {
    public var email: String?
    public var description: String?
    public var externalId: String?

    public init(email: String? = nil, description: String? = nil, externalId: String? = nil) {
        self.email = email
        self.description = description
        self.externalId = externalId
    }
}

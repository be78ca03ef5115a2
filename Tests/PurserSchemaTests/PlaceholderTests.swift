import Testing
@testable import PurserSchema

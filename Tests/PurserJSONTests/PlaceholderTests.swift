import Testing
@testable import PurserJSON

import Testing
@testable import PurserKafka

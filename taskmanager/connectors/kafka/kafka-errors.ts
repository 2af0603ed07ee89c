// Kafka error codes as the connectors use them: the protocol package's names and retriable set.
export { ErrorCode as KafkaErrors, errorName as kafkaErrorName, isRetriable as retriableKafkaError, KafkaProtocolError } from '../../../common/kafka/protocol/index.js';

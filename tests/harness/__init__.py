"""The test harness: real services for integration tests, unique names per test.

Fixtures live in ``tests/conftest.py``; the logic they call lives here, so the
conftest stays a table of contents. Where the services come from, in order:

1. ``ANOMSTREAM_TEST_KAFKA_BOOTSTRAP`` / ``ANOMSTREAM_TEST_REDIS_URL``: an
   existing stack (plaintext Kafka; the Redis URL may carry a password).
2. ``ANOMSTREAM_TEST_DOCKER=1``: testcontainers (``apache/kafka``, ``redis``;
   ``ANOMSTREAM_TEST_KAFKA_IMAGE`` / ``ANOMSTREAM_TEST_REDIS_IMAGE`` override).
3. Otherwise the embedded tansu broker and redis-server, once per session.

Each service is resolved on its own, so a test session that needs only Redis
never starts a broker.
"""

//! End-to-end tests of the suite: all five services in one process, driven
//! through the public REST and WebSocket APIs. The tests are in `e2e/`.

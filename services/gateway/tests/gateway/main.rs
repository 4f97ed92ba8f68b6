//! Integration tests of the gateway on its own (the end-to-end tests in
//! `tests/` drive it together with the other services).

mod process;

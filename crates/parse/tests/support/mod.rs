//! Test helpers shared by the integration tests (a fake LLM HTTP server).
pub mod fake_llm;

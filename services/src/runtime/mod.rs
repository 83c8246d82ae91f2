//! The runtime's building blocks (runtime-and-gateway.md §1), assembled into OperatorBoxes by
//! the runtime itself (issue 7). Built and tested one component at a time; nothing here is
//! reachable from the `ork` CLI yet.

pub mod queue;
pub mod leader;
pub mod health;

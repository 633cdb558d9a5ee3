//! AWS clients and one module per resource kind: observe it, apply a change to it.

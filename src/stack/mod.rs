//! The stack file: the YAML model, `${VAR}` interpolation, validation with line:column.

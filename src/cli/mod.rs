//! Operator commands: `dnid snapshot …`, `dnid restore`, `dnid wal …`.

"""The indicator catalog (versioned definitions; the default catalog ships as data)."""

"""The area hierarchy: importing boundaries (e-Stat rules), deriving upper layers, nesting,
validation, name normalisation, and locating points in areas."""

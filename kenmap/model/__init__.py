"""The foundation: layer schemes, the hub-type catalogue, settings (every default, typed and
documented once), import reports and the small files users write by hand."""

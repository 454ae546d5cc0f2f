"""Transactional templates: legacy and dynamic versions, Handlebars rendering, templated sends."""

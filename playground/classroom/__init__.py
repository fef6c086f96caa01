"""A class: a teacher's wall of learners' live tiles, a spotlight, one exercise for all,
kept in a store that one server holds in memory or many replicas share through Redis."""

"""The demo workspace: realistic, seeded cases built through the public API (``build``), with
the customer-service case (``service``) and one person's story (``story``)."""

"""The web console (docs/WEB.md): server-rendered pages over the same services as the APIs."""

"""The session engine: one specification of a session (`spec`), one factory that assembles it
(`factory`), the engine process that runs it (`process`) and the window's handle on it
(`client`, talking with the typed `messages`).

The window may import only `engine.spec`, `engine.messages` and `engine.client`; none of them
loads bleak, bumble or Qt.
"""

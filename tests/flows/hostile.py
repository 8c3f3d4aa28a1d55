from flowc import FlowSpec, JSONType, Parameter, step


class HostileFlow(FlowSpec):
    """Docstring with "quotes", 'single', \\backslash, {{ argo }}, ${ shell }, $.path,
    a ''' triple and unicode: ünïcödé ✓ — and a second line."""

    quote = Parameter("quote", default='say "hi" and \'bye\'', help='help with "quotes" and {{ braces }}')
    template = Parameter("template", default="{{workflow.name}} ${HOME} $.x {% raw %}", help="${ injection }\nnewline")
    backslash = Parameter("backslash", default="C:\\temp\\new", help="back\\slash $(rm -rf /) `uname`")
    unicode_text = Parameter("unicode_text", default="ünïcödé ✓ 日本", help="ユニコード")
    payload = Parameter("payload", type=JSONType, default='{"k": "v\\"q", "list": ["{{x}}", "$."]}', help="json")

    @step
    def start(self):
        """Step docstring with \"\"\" and {{ }} and ${X}."""
        self.values = [self.quote, self.template, self.backslash, self.unicode_text, self.payload]
        self.next(self.end)

    @step
    def end(self):
        self.count = len(self.values)

{#
    Fails the build when any public model exposes personal data unmasked (see the pii_exposures
    macro): every `pii` column of a public model must declare its masking, and no undocumented
    column named like an identifier may be public.
#}
{{ pii_exposures() }}

{#- Keyed hash (HMAC-SHA256) of a personal value. The key lives in private.pseudonym_key,
    written by `sqwh` from SQWH_PSEUDONYM_KEY, so it never appears in compiled SQL or target/.
    Models using it cross join {{ pseudonym_key_relation() }} as k. -#}
{% macro pseudonymise(column) -%}
    case when nullif({{ column }}, '') is not null
        then encode(sha256(k.outer_key || sha256(k.inner_key || convert_to({{ column }}, 'UTF8'))), 'hex')
    end
{%- endmacro %}

{% macro pseudonym_key_relation() -%}
    private.pseudonym_key
{%- endmacro %}

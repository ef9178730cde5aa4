{#- CC_CALL, one row per call_id (the latest delivery wins; see macros/incremental.sql),
    caller number pseudonymised. Incremental: a build reads the raw rows of new loads only. -#}
{#- caller: fct_calls' incremental builds read a caller's timeline. A hash index
    holds a 4-byte code per call where a B-tree held the 64-character pseudonym: a quarter of
    the size, built in a fraction of the time, and cheaper to keep up as a day's calls merge in.
    BRIN on call_start: source_day_coverage recounts a day's calls by a range on it -#}
{{ incremental_config('CC_CALL', 'call_id', extra_indexes=[
    {'columns': ['caller_no_key'], 'type': 'hash'},
    {'columns': ['call_start'], 'type': 'brin'},
]) }}
{#- the columns of renamed, in order: the current rows of changed keys are selected by them -#}
{%- set columns = [
    'call_id', 'hotline', 'caller_no_key', 'city_code', 'call_start', 'ivr_end', 'queue_start',
    'answer_time', 'call_end', 'skill_group', 'agent_id', 'end_reason', 'business_date',
    'load_id', 'record_no'
] %}
{%- set loads = incremental_loads('CC_CALL') %}

with

source as (
    select * from {{ source('raw', 'cc_call') }}
    {{ new_loads_filter('call_id', loads) }}
),

renamed as (
    select
        s.call_id,
        s.hotline,
        {{ pseudonymise('s.caller_no') }} as caller_no_key,
        s.city_code,
        s.call_start,
        s.ivr_end,
        s.queue_start,
        s.answer_time,
        s.call_end,
        s.skill_group,
        s.agent_id,
        s.end_reason,
        s._business_date as business_date,
        s._load_id as load_id,
        s._record_no as record_no
    from source as s
    cross join {{ pseudonym_key_relation() }} as k
),

candidates as (
    select * from renamed
    -- the current winner of a changed key competes with the new deliveries
    {{ current_winners('call_id', columns, loads) }}
),

final as (
    -- rows with the same business key count once
    {{ latest_delivery('call_id') }}
)

select * from final

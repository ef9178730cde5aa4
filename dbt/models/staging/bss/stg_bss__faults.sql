{#- BSS_FAULT, one row per ticket_id (the latest delivery wins: a ticket reported on one day
    and restored on a later one is delivered again with its restore_time), line number
    pseudonymised. Incremental: a build reads the raw rows of new loads only. -#}
{{ incremental_config('BSS_FAULT', 'ticket_id', extra_indexes=[{'columns': ['line_no_key']}]) }}
{#- the columns of renamed, in order: the current rows of changed keys are selected by them -#}
{%- set columns = [
    'ticket_id', 'line_no_key', 'product', 'city_code', 'county_code', 'area_type',
    'report_time', 'restore_time', 'fault_class', 'source', 'business_date', 'load_id',
    'record_no'
] %}
{%- set loads = incremental_loads('BSS_FAULT') %}

with

source as (
    select * from {{ source('raw', 'bss_fault') }}
    {{ new_loads_filter('ticket_id', loads) }}
),

renamed as (
    select
        s.ticket_id,
        {{ pseudonymise('s.line_no') }} as line_no_key,
        s.product,
        s.city_code,
        s.county_code,
        s.area_type,
        s.report_time,
        s.restore_time,
        s.fault_class,
        s.source,
        s._business_date as business_date,
        s._load_id as load_id,
        s._record_no as record_no
    from source as s
    cross join {{ pseudonym_key_relation() }} as k
),

candidates as (
    select * from renamed
    -- the current winner of a changed key competes with the new deliveries
    {{ current_winners('ticket_id', columns, loads) }}
),

final as (
    -- rows with the same business key count once
    {{ latest_delivery('ticket_id') }}
)

select * from final

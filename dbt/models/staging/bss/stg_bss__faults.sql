with

source as (
    select * from {{ source('raw', 'bss_fault') }}
),

deduplicated as (
    -- rows with the same business key count once; a later delivery wins
    select distinct on (ticket_id) *
    from source
    order by ticket_id, _load_id desc, _record_no desc
),

final as (
    select
        d.ticket_id,
        {{ pseudonymise('d.line_no') }} as line_no_key,
        d.product,
        d.city_code,
        d.county_code,
        d.area_type,
        d.report_time,
        d.restore_time,
        d.fault_class,
        d.source,
        d._load_id as load_id
    from deduplicated as d
    cross join {{ pseudonym_key_relation() }} as k
)

select * from final

with

source as (
    select * from {{ source('raw', 'crm_outlet') }}
),

deduplicated as (
    -- one row per key and snapshot; within a snapshot a later delivery wins
    select distinct on (outlet_id, _business_date) *
    from source
    order by outlet_id asc, _business_date asc, _load_id desc, _record_no desc
),

final as (
    select
        d.outlet_id,
        d.outlet_name,
        d.outlet_type,
        d.city_code,
        d.county_code,
        d.township_code,
        d.open_date,
        d.close_date,
        d.services,
        d.vip_counter,
        d._business_date as snapshot_date,
        d._load_id as load_id
    from deduplicated as d
)

select * from final
